// FakeBackend's test hooks (failure injection, counters, recorded updates); its WireGuard semantics
// are checked by the contract suite (fake_contract_test.cpp).
#include "wireguard/fake/fake_backend.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace nwg::wg {
namespace {

class FakeBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(initCrypto().ok());
    ASSERT_TRUE(fake.create("wg-a", {}).ok());
  }
  FakeBackend fake;
  DeviceRef a{"", "wg-a"};
};

TEST_F(FakeBackendTest, CountsEveryCall) {
  Device update;
  update.listen_port = 51820;
  ASSERT_TRUE(fake.set(a, update).ok());
  ASSERT_TRUE(fake.get(a).ok());
  ASSERT_FALSE(fake.get(DeviceRef{"", "wg-missing"}).ok());
  ASSERT_TRUE(fake.destroy(a).ok());
  FakeBackend::Counts c = fake.counts();
  EXPECT_EQ(c.create, 1);
  EXPECT_EQ(c.set, 1);
  EXPECT_EQ(c.get, 2);
  EXPECT_EQ(c.destroy, 1);
  EXPECT_EQ(c.writes(), 3);
  fake.resetCounts();
  EXPECT_EQ(fake.counts().writes(), 0);
  EXPECT_TRUE(fake.updates().empty());
}

TEST_F(FakeBackendTest, RecordsUpdatesInOrder) {
  Device first, second;
  first.listen_port = 1000;
  second.fwmark = 3;
  ASSERT_TRUE(fake.set(a, first).ok());
  ASSERT_TRUE(fake.set(a, second).ok());
  ASSERT_EQ(fake.updates().size(), 2u);
  EXPECT_EQ(fake.updates()[0], first);
  EXPECT_EQ(fake.updates()[1], second);
}

TEST_F(FakeBackendTest, InjectedFailuresHappenOnceEachAndChangeNothing) {
  fake.failNext(FakeBackend::Op::kSet, Error("injected", EIO), 2);
  Device update;
  update.listen_port = 1234;
  for (int i = 0; i < 2; ++i) {
    Status s = fake.set(a, update);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, EIO);
    EXPECT_EQ(s.error().message, "injected");
  }
  EXPECT_NE(fake.get(a)->listen_port, 1234);
  EXPECT_TRUE(fake.set(a, update).ok());
  EXPECT_EQ(fake.get(a)->listen_port, 1234);
  EXPECT_EQ(fake.counts().set, 3);

  fake.failNext(FakeBackend::Op::kGet, Error("timeout", ETIMEDOUT));
  EXPECT_EQ(fake.get(a).error().code, ETIMEDOUT);
  fake.failNext(FakeBackend::Op::kCreate, Error("busy", EBUSY));
  EXPECT_EQ(fake.create("wg-b", {}).error().code, EBUSY);
  EXPECT_EQ(fake.devices(), std::vector<std::string>{"wg-a"});
  fake.failNext(FakeBackend::Op::kDestroy, Error("stuck", EBUSY));
  EXPECT_FALSE(fake.destroy(a).ok());
  EXPECT_EQ(fake.devices(), std::vector<std::string>{"wg-a"});
}

TEST_F(FakeBackendTest, VanishSimulatesAKilledDevice) {
  fake.vanish("wg-a");
  EXPECT_EQ(fake.get(a).error().code, ENODEV);
  EXPECT_EQ(fake.counts().destroy, 0);
  EXPECT_TRUE(fake.create("wg-a", {}).ok());
}

TEST_F(FakeBackendTest, ListenPortConflictLeavesThePortAsItWas) {
  ASSERT_TRUE(fake.create("wg-b", {}).ok());
  Device update;
  update.listen_port = 51820;
  ASSERT_TRUE(fake.set(a, update).ok());
  auto before = fake.get(DeviceRef{"", "wg-b"})->listen_port;
  Status s = fake.set(DeviceRef{"", "wg-b"}, update);
  EXPECT_EQ(s.error().code, EADDRINUSE);
  EXPECT_EQ(fake.get(DeviceRef{"", "wg-b"})->listen_port, before);
  // Setting a device's own port again is not a conflict.
  EXPECT_TRUE(fake.set(a, update).ok());
}

TEST_F(FakeBackendTest, ZeroPrivateKeyRemovesTheKey) {
  Device update;
  update.private_key = generatePrivateKey();
  ASSERT_TRUE(fake.set(a, update).ok());
  EXPECT_TRUE(fake.get(a)->public_key.has_value());
  update.private_key = Key();
  ASSERT_TRUE(fake.set(a, update).ok());
  EXPECT_FALSE(fake.get(a)->private_key.has_value());
  EXPECT_FALSE(fake.get(a)->public_key.has_value());
}

}  // namespace
}  // namespace nwg::wg

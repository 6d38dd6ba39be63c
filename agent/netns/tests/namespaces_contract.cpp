// The Namespaces contract (see namespaces_contract.h).
#include "netns/tests/namespaces_contract.h"

#include <algorithm>
#include <cerrno>

#include "testing/testing.h"

namespace nwg::testing {

void NamespacesContract::SetUp() {
  if (GetParam().needs_root) NWG_REQUIRE_ROOT();
  ns_ = GetParam().make();
}

void NamespacesContract::TearDown() {
  if (!ns_) return;
  for (const auto& name : created_) {
    Status s = ns_->remove(name);
    EXPECT_TRUE(s.ok()) << "cleanup of " << name << ": " << (s.ok() ? "" : s.error().message);
  }
}

std::string NamespacesContract::track(const std::string& suffix) {
  std::string name = "nwg-" + runToken() + "-" + suffix;
  created_.push_back(name);
  return name;
}

namespace {
bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}
}  // namespace

TEST_P(NamespacesContract, CreateListExistsRemove) {
  const std::string name = track("a");
  ASSERT_FALSE(*ns_->exists(name));
  ASSERT_TRUE(ns_->create(name).ok());
  EXPECT_TRUE(*ns_->exists(name));
  auto names = ns_->list();
  ASSERT_TRUE(names.ok()) << names.error().message;
  EXPECT_TRUE(contains(*names, name));
  ASSERT_TRUE(ns_->remove(name).ok());
  EXPECT_FALSE(*ns_->exists(name));
  EXPECT_FALSE(contains(*ns_->list(), name));
}

TEST_P(NamespacesContract, CreateAndRemoveAreIdempotent) {
  const std::string name = track("idem");
  ASSERT_TRUE(ns_->create(name).ok());
  Status again = ns_->create(name);
  EXPECT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(*ns_->exists(name));
  ASSERT_TRUE(ns_->remove(name).ok());
  Status twice = ns_->remove(name);
  EXPECT_TRUE(twice.ok()) << twice.error().message;
  EXPECT_TRUE(ns_->remove(track("never")).ok());
}

TEST_P(NamespacesContract, CreateKeepsTheExistingNamespaceState) {
  const std::string name = track("keep");
  ASSERT_TRUE(ns_->create(name).ok());
  ASSERT_TRUE(ns_->setSysctl(name, "net/ipv4/ip_forward", "1").ok());
  ASSERT_TRUE(ns_->create(name).ok());
  EXPECT_EQ(*ns_->sysctl(name, "net/ipv4/ip_forward"), "1");  // not a fresh namespace
}

TEST_P(NamespacesContract, SysctlsBelongToTheirNamespace) {
  const std::string a = track("sa");
  const std::string b = track("sb");
  ASSERT_TRUE(ns_->create(a).ok());
  ASSERT_TRUE(ns_->create(b).ok());
  auto fresh = ns_->sysctl(a, "net/ipv4/ip_forward");
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_EQ(*fresh, "0");
  Status set = ns_->setSysctl(a, "net/ipv4/ip_forward", "1");
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(*ns_->sysctl(a, "net/ipv4/ip_forward"), "1");
  EXPECT_EQ(*ns_->sysctl(b, "net/ipv4/ip_forward"), "0");
  ASSERT_TRUE(ns_->setSysctl(a, "net/ipv6/conf/all/forwarding", "1").ok());
  EXPECT_EQ(*ns_->sysctl(a, "net/ipv6/conf/all/forwarding"), "1");
  EXPECT_EQ(*ns_->sysctl(b, "net/ipv6/conf/all/forwarding"), "0");
}

TEST_P(NamespacesContract, SysctlInAMissingNamespaceIsENOENT) {
  const std::string name = track("missing");
  auto got = ns_->sysctl(name, "net/ipv4/ip_forward");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ENOENT);
  EXPECT_NE(got.error().message.find(name), std::string::npos) << got.error().message;
  Status set = ns_->setSysctl(name, "net/ipv4/ip_forward", "1");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().code, ENOENT);
}

TEST_P(NamespacesContract, UnknownSysctlIsENOENT) {
  const std::string name = track("unk");
  ASSERT_TRUE(ns_->create(name).ok());
  auto got = ns_->sysctl(name, "net/ipv4/no_such_knob_nwg");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ENOENT);
}

TEST_P(NamespacesContract, InvalidNamesAndKeysAreEINVAL) {
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "a/b", std::string(256, 'x')}) {
    auto created = ns_->create(bad);
    ASSERT_FALSE(created.ok()) << "'" << bad << "'";
    EXPECT_EQ(created.error().code, EINVAL);
    auto exists = ns_->exists(bad);
    ASSERT_FALSE(exists.ok());
    EXPECT_EQ(exists.error().code, EINVAL);
  }
  const std::string name = track("key");
  ASSERT_TRUE(ns_->create(name).ok());
  for (const std::string bad : {"", "/net/ipv4/ip_forward", "net/../../etc/passwd", "net//x"}) {
    auto got = ns_->sysctl(name, bad);
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.error().code, EINVAL) << bad;
  }
}

}  // namespace nwg::testing

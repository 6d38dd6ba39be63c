// Ownership checks of the state directory need another user's files: root makes them (integration).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "reconcile/identity_store.h"
#include "testing/testing.h"

namespace nwg::reconcile {
namespace {

namespace fs = std::filesystem;
constexpr uid_t kNobody = 65534;

class IdentityStoreOwnershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(initCrypto().ok());
    char tmpl[] = "/tmp/nwg-identity-own-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/state";
    ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_;
  std::string dir_;
};

TEST_F(IdentityStoreOwnershipTest, AKeyFileOfAnotherUserIsRefused) {
  NWG_REQUIRE_ROOT();
  const std::string path = dir_ + "/aaaa.conf";
  {
    std::ofstream f(path);
    f << formatIdentityFile("aaaa", {generatePrivateKey(), 51830});
  }
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  ASSERT_EQ(chown(path.c_str(), kNobody, kNobody), 0);
  IdentityStore store(dir_);
  ASSERT_TRUE(store.load().ok());
  EXPECT_FALSE(store.find("aaaa").has_value());
  ASSERT_EQ(store.unreadable().count("aaaa"), 1u);
  EXPECT_NE(store.unreadable().at("aaaa").find("owned by uid 65534"), std::string::npos)
      << store.unreadable().at("aaaa");
}

TEST_F(IdentityStoreOwnershipTest, AStateDirectoryOfAnotherUserIsRefused) {
  NWG_REQUIRE_ROOT();
  ASSERT_EQ(chown(dir_.c_str(), kNobody, kNobody), 0);
  IdentityStore store(dir_);
  Status loaded = store.load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("owned by uid 65534"), std::string::npos) << loaded.error().message;
}

}  // namespace
}  // namespace nwg::reconcile

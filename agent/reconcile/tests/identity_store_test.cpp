#include "reconcile/identity_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace nwg::reconcile {
namespace {

namespace fs = std::filesystem;

class IdentityStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(initCrypto().ok());
    char tmpl[] = "/tmp/nwg-identity-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/state";
  }
  void TearDown() override { fs::remove_all(root_); }

  void writeFile(const std::string& name, const std::string& text, mode_t mode) {
    const std::string path = dir_ + "/" + name;
    {
      std::ofstream f(path);
      f << text;
    }
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
  }

  static mode_t modeOf(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  std::string root_;
  std::string dir_;
};

TEST_F(IdentityStoreTest, FileFormatRoundTripsAndWgCanReadIt) {
  HubIdentity id{generatePrivateKey(), 51822};
  std::string text = formatIdentityFile("c0ffee00-1111", id);
  EXPECT_NE(text.find("[Interface]\nPrivateKey = "), std::string::npos);
  EXPECT_NE(text.find("ListenPort = 51822\n"), std::string::npos);
  auto back = parseIdentityFile(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, id);
}

TEST_F(IdentityStoreTest, ParseErrorsNameTheLineButNeverTheKey) {
  EXPECT_NE(parseIdentityFile("[Interface]\nListenPort = 1\n").error().message.find("no PrivateKey"),
            std::string::npos);
  auto bad_key = parseIdentityFile("[Interface]\nPrivateKey = secretsecretsecret\nListenPort = 1\n");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.error().message.find("line 2"), std::string::npos);
  EXPECT_EQ(bad_key.error().message.find("secretsecret"), std::string::npos);
  EXPECT_FALSE(parseIdentityFile("[Interface]\nListenPort = 70000\n").ok());
  EXPECT_FALSE(parseIdentityFile("[Peer]\n").ok());
  EXPECT_FALSE(parseIdentityFile("PrivateKey = x\n").ok());
}

TEST_F(IdentityStoreTest, PutIsPrivateAndSurvivesReload) {
  IdentityStore store(dir_);
  ASSERT_TRUE(store.load().ok());
  EXPECT_EQ(modeOf(dir_), 0700u);
  HubIdentity id{generatePrivateKey(), 51820};
  ASSERT_TRUE(store.put("c0ffee00-1111", id).ok());
  EXPECT_EQ(modeOf(store.pathOf("c0ffee00-1111")), 0600u);
  EXPECT_FALSE(fs::exists(store.pathOf("c0ffee00-1111") + ".tmp"));

  IdentityStore again(dir_);
  ASSERT_TRUE(again.load().ok());
  ASSERT_TRUE(again.find("c0ffee00-1111").has_value());
  EXPECT_EQ(*again.find("c0ffee00-1111"), id);
  EXPECT_EQ(again.usedPorts(), (std::set<uint16_t>{51820}));

  ASSERT_TRUE(again.remove("c0ffee00-1111").ok());
  EXPECT_FALSE(fs::exists(again.pathOf("c0ffee00-1111")));
  EXPECT_TRUE(again.remove("c0ffee00-1111").ok());  // idempotent
}

// A file the agent did not write itself with its own mode: someone may have read or planted the key.
TEST_F(IdentityStoreTest, KeyFilesOpenToOthersAreRefusedNeverAdoptedOrTightened) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  writeFile("aaaa.conf", formatIdentityFile("aaaa", {generatePrivateKey(), 51830}), 0644);
  writeFile("bbbb.conf", formatIdentityFile("bbbb", {generatePrivateKey(), 51831}), 0620);
  writeFile("cccc.conf", formatIdentityFile("cccc", {generatePrivateKey(), 51832}), 0600);
  IdentityStore store(dir_);
  ASSERT_TRUE(store.load().ok());
  EXPECT_FALSE(store.find("aaaa").has_value());
  EXPECT_FALSE(store.find("bbbb").has_value());
  EXPECT_TRUE(store.find("cccc").has_value());
  ASSERT_EQ(store.unreadable().count("aaaa"), 1u);
  EXPECT_NE(store.unreadable().at("aaaa").find("mode 0644"), std::string::npos)
      << store.unreadable().at("aaaa");
  EXPECT_EQ(store.unreadable().count("bbbb"), 1u);
  EXPECT_EQ(modeOf(dir_ + "/aaaa.conf"), 0644u);  // left as found, for the operator to look at
}

TEST_F(IdentityStoreTest, ALooseOrForeignStateDirectoryIsRefused) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  IdentityStore store(dir_);
  Status loaded = store.load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("mode 0755"), std::string::npos) << loaded.error().message;
  EXPECT_EQ(modeOf(dir_), 0755u);  // not tightened behind the operator's back
  EXPECT_FALSE(store.put("c0ffee00-1111", {generatePrivateKey(), 51820}).ok());  // nothing written
  EXPECT_FALSE(fs::exists(dir_ + "/c0ffee00-1111.conf"));
}

TEST_F(IdentityStoreTest, SymbolicLinksAreRefused) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  // A key file that points elsewhere (where someone else controls the content).
  writeFile("../elsewhere.conf", formatIdentityFile("dddd", {generatePrivateKey(), 51833}), 0600);
  ASSERT_EQ(symlink((root_ + "/elsewhere.conf").c_str(), (dir_ + "/dddd.conf").c_str()), 0);
  IdentityStore store(dir_);
  ASSERT_TRUE(store.load().ok());
  EXPECT_FALSE(store.find("dddd").has_value());
  ASSERT_EQ(store.unreadable().count("dddd"), 1u);
  EXPECT_NE(store.unreadable().at("dddd").find("symbolic link"), std::string::npos);
  // The state directory itself as a symlink.
  const std::string linked = root_ + "/linked-state";
  ASSERT_EQ(symlink(dir_.c_str(), linked.c_str()), 0);
  IdentityStore via_link(linked);
  EXPECT_FALSE(via_link.load().ok());
}

TEST_F(IdentityStoreTest, LeftoversOfAnInterruptedWriteAreRemoved) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  writeFile("eeee.conf.tmp", formatIdentityFile("eeee", {generatePrivateKey(), 51834}), 0600);
  IdentityStore store(dir_);
  ASSERT_TRUE(store.load().ok());
  EXPECT_FALSE(store.find("eeee").has_value());
  EXPECT_FALSE(fs::exists(dir_ + "/eeee.conf.tmp"));
}

TEST_F(IdentityStoreTest, CorruptFileIsReportedNotReplaced) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  writeFile("bbbb.conf", "[Interface]\nPrivateKey = garbage\n", 0600);
  IdentityStore store(dir_);
  ASSERT_TRUE(store.load().ok());
  EXPECT_FALSE(store.find("bbbb").has_value());
  ASSERT_EQ(store.unreadable().count("bbbb"), 1u);
  EXPECT_NE(store.unreadable().at("bbbb").find("bbbb.conf"), std::string::npos);
}

TEST_F(IdentityStoreTest, RejectsPathTraversal) {
  IdentityStore store(dir_);
  ASSERT_TRUE(store.load().ok());
  EXPECT_FALSE(store.put("../evil", {generatePrivateKey(), 1}).ok());
  EXPECT_FALSE(store.remove("../evil").ok());
}

TEST(AllocateListenPort, LowestFree) {
  EXPECT_EQ(allocateListenPort(51820, 51830, {}), 51820);
  EXPECT_EQ(allocateListenPort(51820, 51830, {51820, 51821, 51823}), 51822);
  EXPECT_FALSE(allocateListenPort(51820, 51821, {51820, 51821}).has_value());
  EXPECT_EQ(allocateListenPort(65535, 65535, {}), 65535);
}

}  // namespace
}  // namespace nwg::reconcile

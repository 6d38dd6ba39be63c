// Logger: sinks chosen as oslo.log chooses them, debug honoured, redaction applied, thread safety,
// reopen after rotation.
#include "logging/logger.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "logging/log.h"

namespace nwg::logging {
namespace {

namespace fs = std::filesystem;

class LoggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nwg-logger-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    for (std::string l; std::getline(ss, l);) out.push_back(l);
    return out;
  }

  fs::path dir_;
};

TEST_F(LoggerTest, FilePathCombinesLikeOsloLog) {
  LoggerOptions o;
  EXPECT_EQ(logFilePath(o), "");
  o.log_file = "agent.log";
  EXPECT_EQ(logFilePath(o), "agent.log");
  o.log_dir = "/var/log/neutron";
  EXPECT_EQ(logFilePath(o), "/var/log/neutron/agent.log");
  o.log_file = "/abs/agent.log";
  EXPECT_EQ(logFilePath(o), "/abs/agent.log");
  o.log_file.clear();
  EXPECT_EQ(logFilePath(o), "/var/log/neutron/neutron-wireguard-agent.log");
}

TEST_F(LoggerTest, WritesFormattedLinesAndHonoursDebug) {
  Logger logger;
  LoggerOptions o;
  o.log_file = "a.log";
  o.log_dir = dir_.string();
  ASSERT_TRUE(logger.configure(o).ok());
  Log log("networking_wireguard.agent", logger);
  log.debug("hidden");
  log.info("shown ", 42);
  o.debug = true;
  ASSERT_TRUE(logger.configure(o).ok());
  log.debug("now shown");
  const auto got = lines(slurp(dir_ / "a.log"));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[0].find(" INFO networking_wireguard.agent [-] shown 42"), std::string::npos) << got[0];
  EXPECT_NE(got[1].find(" DEBUG networking_wireguard.agent [-] now shown"), std::string::npos) << got[1];
  EXPECT_NE(got[0].find(" " + std::to_string(::getpid()) + " "), std::string::npos);
}

TEST_F(LoggerTest, RedactsTransportUrlPasswords) {
  Logger logger;
  LoggerOptions o;
  o.log_file = (dir_ / "r.log").string();
  ASSERT_TRUE(logger.configure(o).ok());
  Log("t", logger).error("cannot connect to rabbit://neutron:hunter2@127.0.0.1:5672/");
  const std::string text = slurp(dir_ / "r.log");
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_NE(text.find("rabbit://neutron:***@127.0.0.1:5672/"), std::string::npos) << text;
}

TEST_F(LoggerTest, ConcurrentLinesNeverInterleave) {
  Logger logger;
  LoggerOptions o;
  o.log_file = (dir_ / "c.log").string();
  ASSERT_TRUE(logger.configure(o).ok());
  constexpr int kThreads = 4, kLines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&logger, t] {
      Log log("thread" + std::to_string(t), logger);
      for (int i = 0; i < kLines; ++i) log.info("line ", i, " of thread ", t, " ", std::string(200, 'x'));
    });
  }
  for (auto& th : threads) th.join();
  const auto got = lines(slurp(dir_ / "c.log"));
  ASSERT_EQ(got.size(), static_cast<size_t>(kThreads * kLines));
  for (const auto& l : got) {
    ASSERT_NE(l.find(" INFO thread"), std::string::npos) << l;
    ASSERT_EQ(l.size() - l.rfind(' ') - 1, 200u) << l;
  }
}

TEST_F(LoggerTest, ReopenFollowsARotatedFile) {
  Logger logger;
  LoggerOptions o;
  o.log_file = (dir_ / "rot.log").string();
  ASSERT_TRUE(logger.configure(o).ok());
  Log log("t", logger);
  log.info("before");
  fs::rename(dir_ / "rot.log", dir_ / "rot.log.1");
  log.info("still old");
  ASSERT_TRUE(logger.reopen().ok());
  log.info("after");
  EXPECT_EQ(lines(slurp(dir_ / "rot.log.1")).size(), 2u);
  const auto now = lines(slurp(dir_ / "rot.log"));
  ASSERT_EQ(now.size(), 1u);
  EXPECT_NE(now[0].find("after"), std::string::npos);
}

TEST_F(LoggerTest, ALogFileReplacedByASymlinkIsNotFollowed) {
  const fs::path target = dir_ / "precious";
  {
    std::ofstream f(target);
    f << "do not append here\n";
  }
  fs::create_symlink(target, dir_ / "agent.log");
  Logger logger;
  LoggerOptions o;
  o.log_file = (dir_ / "agent.log").string();
  auto st = logger.configure(o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("symbolic link"), std::string::npos) << st.error().message;
  // After a rotation, someone swaps in a link: reopen refuses it too and keeps the old file.
  fs::remove(dir_ / "agent.log");
  ASSERT_TRUE(logger.configure(o).ok());
  fs::rename(dir_ / "agent.log", dir_ / "agent.log.1");
  fs::create_symlink(target, dir_ / "agent.log");
  EXPECT_FALSE(logger.reopen().ok());
  Log log("t", logger);
  log.info("still written to the rotated file");
  EXPECT_EQ(slurp(target), "do not append here\n");
  EXPECT_EQ(lines(slurp(dir_ / "agent.log.1")).size(), 1u);
}

TEST_F(LoggerTest, LinesFromTheNetworkCannotForgeLines) {
  Logger logger;
  LoggerOptions o;
  o.log_file = (dir_ / "n.log").string();
  ASSERT_TRUE(logger.configure(o).ok());
  Log log("t", logger);
  log.forRequest(Level::kWarning, "req-\n1", "method 'x\n2026-12-02 00:00:00.000 1 CRITICAL forged' failed");
  const auto written = lines(slurp(dir_ / "n.log"));
  ASSERT_EQ(written.size(), 1u);
  EXPECT_NE(written[0].find("\\x0a2026-12-02"), std::string::npos) << written[0];
  EXPECT_NE(written[0].find("req-\\x0a1"), std::string::npos) << written[0];
}

TEST_F(LoggerTest, UnwritableLogFileIsAnErrorNamingThePath) {
  Logger logger;
  LoggerOptions o;
  o.log_file = (dir_ / "missing-dir" / "x.log").string();
  auto st = logger.configure(o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("missing-dir/x.log"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace nwg::logging

// The oslo.log line format, byte for byte.
#include "logging/log_line.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <regex>

namespace nwg::logging {
namespace {

class LogLineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

std::chrono::system_clock::time_point at(std::time_t secs, int millis) {
  return std::chrono::system_clock::from_time_t(secs) + std::chrono::milliseconds(millis);
}

TEST_F(LogLineTest, DefaultFormatWithoutRequest) {
  LogRecord r;
  r.time = at(1795677920, 123);  // 2026-11-26 07:25:20 UTC
  r.pid = 12345;
  r.level = Level::kInfo;
  r.name = "networking_wireguard.agent";
  r.message = "message";
  EXPECT_EQ(formatLogLine(r), "2026-11-26 07:25:20.123 12345 INFO networking_wireguard.agent [-] message\n");
}

TEST_F(LogLineTest, ContextFormatWithRequestId) {
  LogRecord r;
  r.time = at(1795677920, 7);
  r.pid = 1;
  r.level = Level::kWarning;
  r.name = "networking_wireguard.agent.rpc";
  r.request_id = "req-0b5e5a33-7bde-4b4e-a5a4-6c3f3a1e8d7e";
  r.message = "slow";
  EXPECT_EQ(formatLogLine(r),
            "2026-11-26 07:25:20.007 1 WARNING networking_wireguard.agent.rpc "
            "[None req-0b5e5a33-7bde-4b4e-a5a4-6c3f3a1e8d7e - - - - - -] slow\n");
}

TEST_F(LogLineTest, EveryLineOfAMultiLineMessageHasThePrefix) {
  LogRecord r;
  r.time = at(0, 999);
  r.pid = 2;
  r.level = Level::kError;
  r.name = "x";
  r.message = "first\nsecond\n";
  EXPECT_EQ(formatLogLine(r),
            "1970-01-01 00:00:00.999 2 ERROR x [-] first\n1970-01-01 00:00:00.999 2 ERROR x [-] second\n");
}

TEST_F(LogLineTest, LevelNamesAreOslos) {
  EXPECT_EQ(levelName(Level::kDebug), "DEBUG");
  EXPECT_EQ(levelName(Level::kInfo), "INFO");
  EXPECT_EQ(levelName(Level::kWarning), "WARNING");
  EXPECT_EQ(levelName(Level::kError), "ERROR");
  EXPECT_EQ(levelName(Level::kCritical), "CRITICAL");
}

}  // namespace
}  // namespace nwg::logging

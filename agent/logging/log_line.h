// One log line in oslo.log's format, as a pure function so the format is unit-tested byte for byte:
//   2026-11-26 07:25:20.123 12345 INFO networking_wireguard.agent [-] message
//   2026-11-26 07:25:20.123 12345 INFO networking_wireguard.agent [None req-<uuid> - - - - - -] message
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace nwg::logging {

enum class Level { kDebug, kInfo, kWarning, kError, kCritical };

// oslo.log's level names: DEBUG, INFO, WARNING, ERROR, CRITICAL.
std::string_view levelName(Level level);

struct LogRecord {
  std::chrono::system_clock::time_point time;
  int pid = 0;
  Level level = Level::kInfo;
  std::string_view name;        // the logger name, e.g. networking_wireguard.agent.rpc
  std::string_view request_id;  // "req-<uuid>" when the line belongs to a request, else empty
  std::string_view message;
};

// Local time with milliseconds, like oslo.log's default log_date_format plus %(msecs)03d. A message of
// several lines is written as several log lines with the same prefix (as oslo.log does for tracebacks),
// so a line never starts without its prefix. The result ends with '\n'.
std::string formatLogLine(const LogRecord& record);

}  // namespace nwg::logging

// oslo.log line formatting (logging_default_format_string / logging_context_format_string of Zed).
#include "logging/log_line.h"

#include <cstdio>
#include <ctime>

namespace nwg::logging {

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarning:
      return "WARNING";
    case Level::kError:
      return "ERROR";
    case Level::kCritical:
      return "CRITICAL";
  }
  return "INFO";
}

std::string formatLogLine(const LogRecord& record) {
  using namespace std::chrono;
  const auto since_epoch = record.time.time_since_epoch();
  const auto secs = duration_cast<seconds>(since_epoch);
  auto millis = duration_cast<milliseconds>(since_epoch - secs).count();
  if (millis < 0) millis = 0;  // times before 1970 do not occur; keep the field well-formed anyway
  const std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));

  std::string prefix;
  prefix.reserve(96);
  prefix.append(stamp).append(" ").append(std::to_string(record.pid)).append(" ");
  prefix.append(levelName(record.level)).append(" ").append(record.name);
  if (record.request_id.empty()) {
    prefix.append(" [-] ");
  } else {
    // Zed's context format: [global_request_id request_id user_identity], with user_identity
    // "user project domain system_scope user_domain project_domain" all unknown.
    prefix.append(" [None ").append(record.request_id).append(" - - - - - -] ");
  }

  std::string out;
  out.reserve(prefix.size() + record.message.size() + 1);
  std::string_view rest = record.message;
  while (true) {
    const size_t nl = rest.find('\n');
    out.append(prefix).append(rest.substr(0, nl)).push_back('\n');
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
    if (rest.empty()) break;  // a trailing newline does not make an empty line
  }
  return out;
}

}  // namespace nwg::logging

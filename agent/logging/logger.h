// The agent's logger: oslo.log-formatted lines to a log file and/or stderr, thread-safe, reopened on
// demand (SIGHUP after logrotate). Configured once by the composition root from AgentConfig; every
// component logs through a named Log handle (log.h).
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"
#include "logging/log_line.h"

namespace nwg::logging {

// Where and what to log, mirroring oslo.log's options.
struct LoggerOptions {
  bool debug = false;                              // [DEFAULT] debug: DEBUG instead of INFO
  std::string log_file;                            // [DEFAULT] log_file
  std::string log_dir;                             // [DEFAULT] log_dir
  bool use_stderr = false;                         // [DEFAULT] use_stderr
  std::string binary = "neutron-wireguard-agent";  // names the file when only log_dir is set
};

// oslo.log's combination: log_file alone; log_dir/log_file; log_dir/<binary>.log; or "" (no file).
std::string logFilePath(const LoggerOptions& options);

class Logger {
 public:
  // Until configure(): INFO and above to stderr, so early errors (bad config) are seen.
  Logger();
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Opens the log file (O_APPEND, created 0640) if one is configured. Like oslo.log: with a file,
  // stderr too only if use_stderr; without a file, stderr if use_stderr, else stdout.
  Status configure(const LoggerOptions& options);

  // Reopens the log file (for logrotate). Safe to call from any thread, not from a signal handler.
  Status reopen();

  bool enabled(Level level) const { return level >= min_level_.load(std::memory_order_relaxed); }

  // Writes one record; the message passes through redactUrlCredentials first.
  void log(Level level, std::string_view name, std::string_view message, std::string_view request_id = {});

  // The process-wide logger that Log handles use by default.
  static Logger& global();

 private:
  std::atomic<Level> min_level_{Level::kInfo};
  std::mutex mu_;
  std::string path_;
  UniqueFd file_;
  int stream_fd_ = 2;  // 2 (stderr), 1 (stdout) or -1 (none)
};

}  // namespace nwg::logging

// Logger: formatting, redaction and the write path (one write(2) per record under a mutex, so lines
// from different threads never interleave).
#include "logging/logger.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "logging/line_guard.h"
#include "logging/secret_redactor.h"

namespace nwg::logging {
namespace {

void writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report a failing log sink
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

std::string logFilePath(const LoggerOptions& options) {
  auto joined = [](std::string dir, const std::string& file) {
    if (dir.back() != '/') dir.push_back('/');
    return dir + file;
  };
  if (!options.log_file.empty()) {
    // os.path.join(log_dir, log_file) keeps an absolute log_file as it is.
    if (options.log_dir.empty() || options.log_file.front() == '/') return options.log_file;
    return joined(options.log_dir, options.log_file);
  }
  if (!options.log_dir.empty()) return joined(options.log_dir, options.binary + ".log");
  return {};
}

Logger::Logger() = default;

Logger::~Logger() = default;

namespace {

// The log file is the agent's: never follow a symlink someone put in its place (the agent runs as root:
// a link to /etc/shadow would be appended to), and only ever append to a regular file.
Result<UniqueFd> openLogFile(const std::string& path, const char* verb) {
  UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0640));
  if (!fd) {
    if (errno == ELOOP)
      return Error(str("cannot ", verb, " log file ", path, ": it is a symbolic link (refused)"), ELOOP);
    return Error::fromErrno(errno, str("cannot ", verb, " log file ", path));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Error(str("cannot ", verb, " log file ", path, ": not a regular file (refused)"), EINVAL);
  }
  return fd;
}

}  // namespace

Status Logger::configure(const LoggerOptions& options) {
  const std::string path = logFilePath(options);
  UniqueFd fd;
  if (!path.empty()) {
    NWG_ASSIGN_OR_RETURN(fd, openLogFile(path, "open"));
  }
  std::lock_guard lock(mu_);
  path_ = path;
  file_ = std::move(fd);
  if (options.use_stderr) {
    stream_fd_ = 2;
  } else {
    stream_fd_ = path.empty() ? 1 : -1;
  }
  min_level_.store(options.debug ? Level::kDebug : Level::kInfo, std::memory_order_relaxed);
  return okStatus();
}

Status Logger::reopen() {
  std::lock_guard lock(mu_);
  if (path_.empty()) return okStatus();
  NWG_ASSIGN_OR_RETURN(UniqueFd fd, openLogFile(path_, "reopen"));
  file_ = std::move(fd);
  return okStatus();
}

void Logger::log(Level level, std::string_view name, std::string_view message, std::string_view request_id) {
  if (!enabled(level)) return;
  const std::string clean = guardLogLine(redactUrlCredentials(message));
  LogRecord record;
  record.time = std::chrono::system_clock::now();
  record.pid = static_cast<int>(::getpid());
  record.level = level;
  record.name = name;
  const std::string clean_request_id = guardLogLine(request_id, 128);
  record.request_id = clean_request_id;
  record.message = clean;
  const std::string line = formatLogLine(record);
  std::lock_guard lock(mu_);
  if (file_) writeAll(file_.get(), line);
  if (stream_fd_ >= 0) writeAll(stream_fd_, line);
}

Logger& Logger::global() {
  static Logger* logger = new Logger();  // never destroyed: threads may log during exit
  return *logger;
}

}  // namespace nwg::logging

// A named logging handle (the oslo "logger name"), cheap to copy:
//   Log log("networking_wireguard.agent.rpc");
//   log.info("connected to ", url);        // parts are streamed, as nwg::str does
#pragma once

#include <string>
#include <string_view>

#include "base/strings.h"
#include "logging/logger.h"

namespace nwg::logging {

class Log {
 public:
  explicit Log(std::string name, Logger& logger = Logger::global())
      : name_(std::move(name)), logger_(&logger) {}

  const std::string& name() const { return name_; }
  Logger& logger() const { return *logger_; }
  bool enabled(Level level) const { return logger_->enabled(level); }

  template <typename... Parts>
  void debug(const Parts&... parts) const {
    write(Level::kDebug, parts...);
  }
  template <typename... Parts>
  void info(const Parts&... parts) const {
    write(Level::kInfo, parts...);
  }
  template <typename... Parts>
  void warning(const Parts&... parts) const {
    write(Level::kWarning, parts...);
  }
  template <typename... Parts>
  void error(const Parts&... parts) const {
    write(Level::kError, parts...);
  }

  // A line that belongs to a request (shows "[None req-... - - - - - -]").
  template <typename... Parts>
  void forRequest(Level level, std::string_view request_id, const Parts&... parts) const {
    if (logger_->enabled(level)) logger_->log(level, name_, str(parts...), request_id);
  }

 private:
  template <typename... Parts>
  void write(Level level, const Parts&... parts) const {
    if (logger_->enabled(level)) logger_->log(level, name_, str(parts...));  // build the text only if needed
  }

  std::string name_;
  Logger* logger_;
};

}  // namespace nwg::logging

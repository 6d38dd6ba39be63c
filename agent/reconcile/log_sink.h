// Where the reconcile layer writes its log lines. The daemon adapts it to the agent's logger; tests
// capture the lines (dry_run's output is the exact list of operations, so tests read it).
#pragma once

#include <string_view>

namespace nwg::reconcile {

enum class Severity { Debug, Info, Warning, Error };

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void log(Severity severity, std::string_view message) = 0;

  void debug(std::string_view m) { log(Severity::Debug, m); }
  void info(std::string_view m) { log(Severity::Info, m); }
  void warning(std::string_view m) { log(Severity::Warning, m); }
  void error(std::string_view m) { log(Severity::Error, m); }
};

}  // namespace nwg::reconcile

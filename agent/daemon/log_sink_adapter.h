// Lets the reconcile layer (which only knows LogSink) write through the agent's oslo.log logger.
#pragma once

#include "logging/log.h"
#include "reconcile/log_sink.h"

namespace nwg::daemon {

class LogSinkAdapter final : public reconcile::LogSink {
 public:
  explicit LogSinkAdapter(logging::Log log) : log_(std::move(log)) {}
  void log(reconcile::Severity severity, std::string_view message) override {
    switch (severity) {
      case reconcile::Severity::Debug: log_.debug(message); break;
      case reconcile::Severity::Info: log_.info(message); break;
      case reconcile::Severity::Warning: log_.warning(message); break;
      case reconcile::Severity::Error: log_.error(message); break;
    }
  }

 private:
  logging::Log log_;
};

}  // namespace nwg::daemon

// What the reconcile benchmarks (bench_idle_cycle, bench_spoke_change) share.
#pragma once

#include <sys/resource.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "reconcile/log_sink.h"

namespace nwg::reconcile::bench {

// The reconciler's log, warnings and errors only: a benchmark's output is its figures.
class QuietLog : public LogSink {
 public:
  void log(Severity s, std::string_view m) override {
    if (s >= Severity::Warning) std::cerr << m << "\n";
  }
};

// CPU time of this process so far (user + system, its threads included), in milliseconds.
inline double cpuMs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ms = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1000.0 + static_cast<double>(t.tv_usec) / 1000.0;
  };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

// `v` in lowercase hex, zero-padded to `width`: the IDs a run makes up.
inline std::string hex(unsigned v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*x", width, v);
  return buf;
}

}  // namespace nwg::reconcile::bench

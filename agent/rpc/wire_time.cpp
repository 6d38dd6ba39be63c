// UTC timestamp formatting with microseconds.
#include "rpc/wire_time.h"

#include <cstdio>
#include <ctime>

namespace nwg::rpc {

std::string formatUtcTime(std::chrono::system_clock::time_point time, char date_time_separator) {
  using namespace std::chrono;
  const auto since = time.time_since_epoch();
  auto secs = duration_cast<seconds>(since);
  auto micros = duration_cast<microseconds>(since - secs).count();
  if (micros < 0) {  // floor for times before the epoch, so the fraction stays within [0, 1 s)
    micros += 1000000;
    secs -= seconds(1);
  }
  const std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d%c%02d:%02d:%02d.%06lld", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, date_time_separator, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buf;
}

}  // namespace nwg::rpc

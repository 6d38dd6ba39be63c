// Timestamps as Python's datetime prints them on the wire, always UTC with microseconds:
//   report_state "time":    2026-11-26T05:45:09.641218   (strftime '%Y-%m-%dT%H:%M:%S.%f')
//   context "timestamp":    2026-11-26 05:45:09.489074   (str(datetime))
// Neutron rejects a report_state time without microseconds, so they are always written.
#pragma once

#include <chrono>
#include <string>

namespace nwg::rpc {

std::string formatUtcTime(std::chrono::system_clock::time_point time, char date_time_separator);

}  // namespace nwg::rpc

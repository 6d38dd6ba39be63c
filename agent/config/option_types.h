// Option value types spelled as oslo.config spells them (oslo_config/types.py). Each parser returns the
// cause only ("'abc' is not an integer"); OptionReader adds the file, section and option.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace nwg::config {

// true/1/on/yes and false/0/off/no, case-insensitive, surrounding spaces ignored.
Result<bool> parseBool(std::string_view text);
// Python int(): optional sign, decimal digits, '_' between digits; surrounding spaces ignored.
Result<int64_t> parseInt(std::string_view text);
// A finite decimal number (Python float() without inf/nan).
Result<double> parseFloat(std::string_view text);
// oslo's List: strip, drop trailing commas, split on ',', strip every item; "" is the empty list.
std::vector<std::string> parseList(std::string_view text);

// "first:last", e.g. the listen_port_range 51820:52820; both in [min, max] and first <= last.
struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
  bool contains(uint16_t port) const { return port >= first && port <= last; }
  bool operator==(const PortRange&) const = default;
};
Result<PortRange> parsePortRange(std::string_view text);

// A Go memory limit as GOMEMLIMIT accepts it: digits with an optional B, KiB, MiB, GiB or TiB suffix
// (e.g. "512MiB"), "off", or "auto" (sized per device by its peers); returns the text when valid.
Result<std::string> parseGoMemoryLimit(std::string_view text);

}  // namespace nwg::config

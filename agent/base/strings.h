// Small string helpers (GCC 12 has no <format>).
#pragma once

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace nwg {

// Concatenates streamable parts into a string: str("port ", id, " has ", n, " IPs").
template <typename... Parts>
std::string str(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// Joins items with a separator; items must be streamable.
template <typename Range>
std::string join(const Range& items, std::string_view sep) {
  std::ostringstream out;
  bool first = true;
  for (const auto& item : items) {
    if (!first) out << sep;
    out << item;
    first = false;
  }
  return out.str();
}

std::vector<std::string_view> split(std::string_view text, char sep);
std::string_view trim(std::string_view text);
bool startsWith(std::string_view text, std::string_view prefix);

// Text from the network made safe for one log line: printable ASCII kept, backslash, control and
// non-ASCII bytes escaped (\n, \t, \\, \xNN), and at most `max_bytes` of the input shown, the rest
// counted ("...(1234 more bytes)"). Request ids, method names, queue names, remote error texts.
std::string sanitizeForLog(std::string_view text, size_t max_bytes = 200);

}  // namespace nwg

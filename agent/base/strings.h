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

}  // namespace nwg

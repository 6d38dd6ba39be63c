// Small string helpers (GCC 12 has no <format>).
#pragma once

#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace nwg {

namespace detail {

// Out of line: appending inline in every caller grows them and trips GCC 12's -O3 false positives.
void appendText(std::string& out, std::string_view text);
void appendSigned(std::string& out, long long value);
void appendUnsigned(std::string& out, unsigned long long value);

// One part of str() or join(): text and wide integers appended directly, anything else through a
// stream, with the same characters as `out << part` either way. A stream per part costs thousands of
// instructions (its locale), and the agent formats a few lines for every change it applies.
template <typename Part>
void appendPart(std::string& out, const Part& part) {
  if constexpr (std::is_convertible_v<const Part&, std::string_view>) {
    appendText(out, std::string_view(part));
  } else if constexpr (std::is_same_v<Part, char>) {
    appendText(out, std::string_view(&part, 1));
  } else if constexpr (std::is_integral_v<Part> && !std::is_same_v<Part, bool> && sizeof(Part) > 1) {
    if constexpr (std::is_signed_v<Part>) {
      appendSigned(out, part);
    } else {
      appendUnsigned(out, part);
    }
  } else {
    std::ostringstream stream;  // bool as 1/0, (un)signed char as a character, floats, nwg types
    stream << part;
    appendText(out, stream.str());
  }
}

}  // namespace detail

// Concatenates streamable parts into a string: str("port ", id, " has ", n, " IPs").
template <typename... Parts>
std::string str(const Parts&... parts) {
  std::string out;
  (detail::appendPart(out, parts), ...);
  return out;
}

// Joins items with a separator; items must be streamable.
template <typename Range>
std::string join(const Range& items, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& item : items) {
    if (!first) detail::appendText(out, sep);
    detail::appendPart(out, item);
    first = false;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char sep);
std::string_view trim(std::string_view text);
bool startsWith(std::string_view text, std::string_view prefix);

// Text from the network made safe for one log line: printable ASCII kept, backslash, control and
// non-ASCII bytes escaped (\n, \t, \\, \xNN), and at most `max_bytes` of the input shown, the rest
// counted ("...(1234 more bytes)"). Request ids, method names, queue names, remote error texts.
std::string sanitizeForLog(std::string_view text, size_t max_bytes = 200);

}  // namespace nwg

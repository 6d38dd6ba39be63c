// Parsers for option values (booleans, integers, floats, lists, port ranges, Go memory limits).
#include "config/option_types.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace nwg::config {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<bool> parseBool(std::string_view text) {
  const std::string v = lower(trim(text));
  if (v == "true" || v == "1" || v == "on" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "off" || v == "no") return false;
  return fail("'", text, "' is not a boolean (true/false, yes/no, on/off, 1/0)");
}

Result<int64_t> parseInt(std::string_view text) {
  const std::string_view v = trim(text);
  size_t i = 0;
  bool negative = false;
  if (i < v.size() && (v[i] == '+' || v[i] == '-')) negative = v[i++] == '-';
  if (i == v.size()) return fail("'", text, "' is not an integer");
  // Accumulate as a negative number so INT64_MIN parses; '_' only between two digits (Python rule).
  int64_t acc = 0;
  bool last_digit = false;
  for (; i < v.size(); ++i) {
    const char c = v[i];
    if (c == '_' && last_digit && i + 1 < v.size() && std::isdigit(static_cast<unsigned char>(v[i + 1]))) {
      last_digit = false;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) return fail("'", text, "' is not an integer");
    const int d = c - '0';
    if (acc < (std::numeric_limits<int64_t>::min() + d) / 10) return fail("'", text, "' is out of range");
    acc = acc * 10 - d;
    last_digit = true;
  }
  if (!negative) {
    if (acc == std::numeric_limits<int64_t>::min()) return fail("'", text, "' is out of range");
    acc = -acc;
  }
  return acc;
}

Result<double> parseFloat(std::string_view text) {
  const std::string v(trim(text));
  if (v.empty()) return fail("'", text, "' is not a number");
  for (char c : v) {
    // strtod also reads hex floats, "inf" and "nan": not numbers an operator means.
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == 'e' ||
          c == 'E')) {
      return fail("'", text, "' is not a number");
    }
  }
  errno = 0;
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (end != v.c_str() + v.size() || errno == ERANGE || !std::isfinite(d))
    return fail("'", text, "' is not a number");
  return d;
}

std::vector<std::string> parseList(std::string_view text) {
  std::string_view s = trim(text);
  while (!s.empty() && s.back() == ',') s.remove_suffix(1);
  std::vector<std::string> out;
  if (s.empty()) return out;
  for (std::string_view item : split(s, ',')) out.emplace_back(trim(item));
  return out;
}

Result<PortRange> parsePortRange(std::string_view text) {
  const std::string_view v = trim(text);
  const size_t colon = v.find(':');
  if (colon == std::string_view::npos)
    return fail("'", text, "' is not a port range (expected first:last, e.g. 51820:52820)");
  auto first = parseInt(v.substr(0, colon));
  auto last = parseInt(v.substr(colon + 1));
  if (!first.ok() || !last.ok())
    return fail("'", text, "' is not a port range (expected first:last, e.g. 51820:52820)");
  if (*first < 1 || *first > 65535 || *last < 1 || *last > 65535) {
    return fail("port range '", text, "' must lie within 1..65535");
  }
  if (*first > *last) return fail("port range '", text, "' is empty (first port above last)");
  return PortRange{static_cast<uint16_t>(*first), static_cast<uint16_t>(*last)};
}

Result<std::string> parseGoMemoryLimit(std::string_view text) {
  const std::string_view v = trim(text);
  if (v == "auto" || v == "off") return std::string(v);
  size_t digits = 0;
  while (digits < v.size() && std::isdigit(static_cast<unsigned char>(v[digits]))) ++digits;
  const std::string_view unit = v.substr(digits);
  if (digits == 0 ||
      !(unit.empty() || unit == "B" || unit == "KiB" || unit == "MiB" || unit == "GiB" || unit == "TiB")) {
    return fail("'", text,
                "' is not a Go memory limit (a number of bytes with an optional B, KiB, MiB, GiB or TiB "
                "suffix, e.g. 512MiB; or off, or auto)");
  }
  return std::string(v);
}

}  // namespace nwg::config

#include "base/mac.h"

namespace nwg {

std::optional<MacBytes> parseMac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  MacBytes out{};
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 6; ++i) {
    const int hi = hex(text[i * 3]);
    const int lo = hex(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':')) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return out;
}

std::string formatMac(const uint8_t* bytes, size_t len) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < len; ++i) {
    if (i) out.push_back(':');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xf]);
  }
  return out;
}

}  // namespace nwg

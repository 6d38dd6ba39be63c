// UUID4 generation from a per-thread generator seeded by the OS (no lock on the hot path of a call).
#include "rpc/uuid.h"

#include <array>
#include <cstdint>
#include <random>

namespace nwg::rpc {
namespace {

std::array<uint8_t, 16> randomUuidBytes() {
  thread_local std::mt19937_64 engine = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  std::array<uint8_t, 16> b{};
  for (int half = 0; half < 2; ++half) {
    uint64_t v = engine();
    for (int i = 0; i < 8; ++i) b[static_cast<size_t>(half * 8 + i)] = static_cast<uint8_t>(v >> (8 * i));
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return b;
}

std::string format(bool dashes) {
  static const char kHex[] = "0123456789abcdef";
  const auto b = randomUuidBytes();
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (dashes && (i == 4 || i == 6 || i == 8 || i == 10)) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

}  // namespace

std::string newUuidHex() {
  return format(false);
}
std::string newUuidString() {
  return format(true);
}

}  // namespace nwg::rpc

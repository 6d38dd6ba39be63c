// A hash of WireGuard public keys for hash tables over peers. Seeded per process: public keys are
// chosen by whoever registers a spoke, so an unseeded hash would let crafted keys collide on purpose.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <random>

#include "keys/key.h"

namespace nwg::wg {

struct KeyHash {
  uint64_t operator()(const Key& key) const {
    static const std::array<uint64_t, 4> seeds = [] {
      std::random_device rd;
      std::array<uint64_t, 4> s{};
      for (auto& v : s) v = ((uint64_t{rd()} << 32) | rd()) | 1;  // odd: each product stays a bijection
      return s;
    }();
    uint64_t h = 0;
    for (size_t w = 0; w < 4; ++w) {
      uint64_t word;
      std::memcpy(&word, key.bytes().data() + w * 8, 8);
      h ^= word * seeds[w];
    }
    return h ^ (h >> 29);
  }
};

// Equality for hash tables of public keys: not secret, so it may stop at the first difference
// (Key::operator== is constant-time, for secrets). Four word compares, inline: a library memcmp
// call per comparison is a large part of matching 10,000 peers.
struct PublicKeyEqual {
  bool operator()(const Key& a, const Key& b) const {
    for (size_t i = 0; i < Key::kSize; i += 8) {
      uint64_t x, y;
      std::memcpy(&x, a.bytes().data() + i, 8);
      std::memcpy(&y, b.bytes().data() + i, 8);
      if (x != y) return false;
    }
    return true;
  }
};

}  // namespace nwg::wg

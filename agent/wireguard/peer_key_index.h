// PeerKeyIndex: public key -> position in a peer list, for lists of 10,000 peers that are matched
// once (decoding a get reply, diffing two devices). One flat open-addressing table of 8-byte slots,
// no allocation per peer, and the keys themselves stay in the caller's list: a slot holds only the
// key's position and 32 bits of its hash, which rule out almost every false key comparison.
#pragma once

#include <cstdint>
#include <vector>

#include "keys/key.h"
#include "wireguard/key_hash.h"

namespace nwg::wg {

class PeerKeyIndex {
 public:
  static constexpr uint32_t kAbsent = UINT32_MAX;

  // Sized for `expected` keys without growing (it grows when more come).
  explicit PeerKeyIndex(size_t expected = 0) { reset(expected); }

  // Empties the index, sized for `expected` keys.
  void reset(size_t expected) {
    size_t size = 16;
    while (size < 3 * expected + 1) size <<= 1;  // load at most 1/3
    slots_.assign(size, Slot{});
    mask_ = size - 1;
    count_ = 0;
  }

  // The 32 bits of a key's hash the index uses; compute once when a key is looked up more than once.
  static uint32_t hashOf(const Key& key) { return static_cast<uint32_t>(KeyHash()(key) >> 32); }

  // The position stored for `key`, or kAbsent when it has none. `key_at(position)` returns the key
  // stored at a position of the caller's list.
  template <typename KeyAt>
  uint32_t find(const Key& key, uint32_t hash, const KeyAt& key_at) const {
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.position == kAbsent) return kAbsent;
      if (s.hash == hash && PublicKeyEqual()(key_at(s.position), key)) return s.position;
    }
  }

  // Stores `position` for `key` unless the key has one already; returns the earlier position, or
  // kAbsent when this one was stored.
  template <typename KeyAt>
  uint32_t insert(const Key& key, uint32_t hash, uint32_t position, const KeyAt& key_at) {
    if ((count_ + 1) * 3 > slots_.size() * 2) grow();
    size_t i = hash & mask_;
    for (;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.position == kAbsent) break;
      if (s.hash == hash && PublicKeyEqual()(key_at(s.position), key)) return s.position;
    }
    slots_[i] = Slot{hash, position};
    ++count_;
    return kAbsent;
  }

  // Where a lookup of `hash` starts, to prefetch it a few lookups ahead.
  const void* slotFor(uint32_t hash) const { return &slots_[hash & mask_]; }
  // The position in the slot where a lookup of `hash` starts (kAbsent if empty): most likely, not
  // surely, the position find() will return; for prefetching what find() will compare.
  uint32_t likelyPosition(uint32_t hash) const { return slots_[hash & mask_].position; }

  size_t size() const { return count_; }

 private:
  struct Slot {
    uint32_t hash = 0;
    uint32_t position = kAbsent;
  };

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.position == kAbsent) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].position != kAbsent) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace nwg::wg

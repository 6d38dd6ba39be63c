// PeerKeyIndex: positions found by key, first position kept for a repeated key, growth past the
// expected size, and hash collisions told apart by the keys themselves.
#include "wireguard/peer_key_index.h"

#include <gtest/gtest.h>

#include <vector>

namespace nwg::wg {
namespace {

Key keyOf(uint32_t n) {
  std::array<uint8_t, 32> b{};
  for (size_t i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(n >> (8 * i));
  b[31] = 1;
  return Key(b);
}

TEST(PeerKeyIndex, FindsWhatWasInsertedAndNothingElse) {
  std::vector<Key> keys;
  for (uint32_t i = 0; i < 1000; ++i) keys.push_back(keyOf(i));
  auto keyAt = [&](uint32_t p) -> const Key& { return keys[p]; };
  PeerKeyIndex index(10);  // grows well past the expected size
  for (uint32_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(index.insert(keys[i], PeerKeyIndex::hashOf(keys[i]), i, keyAt), PeerKeyIndex::kAbsent);
  }
  EXPECT_EQ(index.size(), keys.size());
  for (uint32_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(index.find(keys[i], PeerKeyIndex::hashOf(keys[i]), keyAt), i);
  }
  const Key absent = keyOf(5000);
  EXPECT_EQ(index.find(absent, PeerKeyIndex::hashOf(absent), keyAt), PeerKeyIndex::kAbsent);
}

TEST(PeerKeyIndex, ARepeatedKeyKeepsItsFirstPosition) {
  std::vector<Key> keys = {keyOf(1), keyOf(2), keyOf(1)};
  auto keyAt = [&](uint32_t p) -> const Key& { return keys[p]; };
  PeerKeyIndex index(keys.size());
  EXPECT_EQ(index.insert(keys[0], PeerKeyIndex::hashOf(keys[0]), 0, keyAt), PeerKeyIndex::kAbsent);
  EXPECT_EQ(index.insert(keys[1], PeerKeyIndex::hashOf(keys[1]), 1, keyAt), PeerKeyIndex::kAbsent);
  EXPECT_EQ(index.insert(keys[2], PeerKeyIndex::hashOf(keys[2]), 2, keyAt), 0u);
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(index.find(keys[2], PeerKeyIndex::hashOf(keys[2]), keyAt), 0u);
}

// Every key given the same hash: the index degrades to a scan but stays exact.
TEST(PeerKeyIndex, CollidingHashesAreToldApartByTheKeys) {
  std::vector<Key> keys;
  for (uint32_t i = 0; i < 100; ++i) keys.push_back(keyOf(i));
  auto keyAt = [&](uint32_t p) -> const Key& { return keys[p]; };
  PeerKeyIndex index;
  for (uint32_t i = 0; i < keys.size(); ++i)
    EXPECT_EQ(index.insert(keys[i], 7, i, keyAt), PeerKeyIndex::kAbsent);
  for (uint32_t i = 0; i < keys.size(); ++i) EXPECT_EQ(index.find(keys[i], 7, keyAt), i);
  EXPECT_EQ(index.insert(keys[42], 7, 1000, keyAt), 42u);
  EXPECT_EQ(index.find(keyOf(100), 7, keyAt), PeerKeyIndex::kAbsent);
}

TEST(PeerKeyIndex, ResetEmptiesIt) {
  std::vector<Key> keys = {keyOf(1)};
  auto keyAt = [&](uint32_t p) -> const Key& { return keys[p]; };
  PeerKeyIndex index(1);
  index.insert(keys[0], PeerKeyIndex::hashOf(keys[0]), 0, keyAt);
  index.reset(4);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.find(keys[0], PeerKeyIndex::hashOf(keys[0]), keyAt), PeerKeyIndex::kAbsent);
}

}  // namespace
}  // namespace nwg::wg

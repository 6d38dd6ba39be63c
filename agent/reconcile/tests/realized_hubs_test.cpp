#include "reconcile/realized_hubs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "base/strings.h"
#include "reconcile/hub_spec.h"

namespace nwg::reconcile {
namespace {

SpokeSpec spoke(int n, int address = 0) {
  SpokeSpec s;
  s.port_id = str("5b0e", 100000 + n, "-0000");
  s.public_key = publicKeyOf(generatePrivateKey());
  s.allowed_ips = {*IpPrefix::parse(str("10.", address, ".", n / 256 % 256, ".", n % 256, "/32"))};
  return s;
}

void expectSame(const RealizedSpokes& got, const std::vector<SpokeSpec>& want) {
  ASSERT_EQ(got.size(), want.size());
  size_t i = 0;
  for (const RealizedSpoke& s : got) {  // by iteration and by index alike
    ASSERT_EQ(s.port_id, want[i].port_id) << i;
    EXPECT_TRUE(s.public_key == want[i].public_key) << i;
    EXPECT_EQ(s.allowed_ips, want[i].allowed_ips) << i;
    EXPECT_EQ(&got[i], &s) << i;
    ++i;
  }
  EXPECT_EQ(i, want.size());
}

std::vector<SpokeSpec> spokes(int n) {
  std::vector<SpokeSpec> out;
  for (int i = 0; i < n; ++i) out.push_back(spoke(i));
  return out;
}

TEST(RealizedSpokes, HoldsTheSpokesInOrderByIndexAndByIteration) {
  for (int n : {0, 1, 127, 128, 129, 1000}) {
    auto want = spokes(n);
    expectSame(RealizedSpokes::from(want), want);
  }
  EXPECT_TRUE(RealizedSpokes().empty());
  EXPECT_EQ(RealizedSpokes().begin(), RealizedSpokes().end());
}

TEST(RealizedSpokes, OneChangeCopiesOneChunkAndSharesTheOthers) {
  auto want = spokes(10000);
  const RealizedSpokes first = RealizedSpokes::from(want);
  const size_t chunks = first.chunkCount();
  ASSERT_GE(chunks, 10000 / (2 * RealizedSpokes::kChunk));
  // Re-keyed.
  want[5000].public_key = publicKeyOf(generatePrivateKey());
  RealizedSpokes second = first.with(want, {want[5000].port_id});
  expectSame(second, want);
  EXPECT_EQ(second.sharedChunks(first), chunks - 1);
  // Added (between two others, and below the lowest) and removed.
  SpokeSpec added = spoke(3000);
  added.port_id += "-a";
  auto at = std::lower_bound(want.begin(), want.end(), added.port_id,
                             [](const SpokeSpec& s, const std::string& id) { return s.port_id < id; });
  want.insert(at, added);
  SpokeSpec lowest = spoke(0);
  lowest.port_id = "0000";
  want.insert(want.begin(), lowest);
  const std::string removed = want[9000].port_id;
  want.erase(want.begin() + 9000);
  RealizedSpokes third = second.with(want, {added.port_id, lowest.port_id, removed});
  expectSame(third, want);
  EXPECT_EQ(third.sharedChunks(second), chunks - 3);
}

// Random edits, each published from the one before: always exactly the hub's spokes, however chunks
// grow, split and empty.
TEST(RealizedSpokes, AnyHistoryOfEditsEndsAsAFreshCopyWould) {
  std::mt19937 random(20261202);
  std::vector<SpokeSpec> want;
  for (int i = 0; i < 600; i += 2) want.push_back(spoke(i));
  RealizedSpokes current = RealizedSpokes::from(want);
  for (int round = 0; round < 200; ++round) {
    std::set<std::string> changed;
    const int edits = 1 + static_cast<int>(random() % (round % 10 == 0 ? 300 : 5));
    for (int e = 0; e < edits; ++e) {
      const int n = static_cast<int>(random() % 1200);
      SpokeSpec s = spoke(n, round % 200);
      auto at = std::lower_bound(want.begin(), want.end(), s.port_id,
                                 [](const SpokeSpec& x, const std::string& id) { return x.port_id < id; });
      const bool present = at != want.end() && at->port_id == s.port_id;
      if (present && random() % 2) want.erase(at);
      else if (present) *at = s;
      else want.insert(at, s);
      changed.insert(s.port_id);
    }
    current = current.with(want, changed);
    expectSame(current, want);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace nwg::reconcile

// ConfirmLedger: single and multiple acks and nacks, unknown tags, and losing everything at once.
#include "rpc/confirm_ledger.h"

#include <gtest/gtest.h>

namespace nwg::rpc {
namespace {

std::vector<uint64_t> seqs(const std::vector<ConfirmLedger::Settled>& settled) {
  std::vector<uint64_t> out;
  for (const auto& s : settled) out.push_back(s.seq);
  return out;
}

ConfirmLedger ledgerOf(std::initializer_list<uint64_t> seq) {
  ConfirmLedger l;
  for (uint64_t s : seq) l.add(s, {"id-" + std::to_string(s), "t.m", s % 2 == 0});
  return l;
}

TEST(ConfirmLedgerTest, ASingleAckSettlesOnlyItsSequenceNumber) {
  ConfirmLedger l = ledgerOf({1, 2, 3});
  auto settled = l.confirm(2, /*multiple=*/false, /*ack=*/true);
  ASSERT_EQ(seqs(settled), std::vector<uint64_t>{2});
  EXPECT_EQ(settled[0].entry.id, "id-2");
  EXPECT_TRUE(settled[0].entry.cast);
  EXPECT_TRUE(settled[0].ack);
  EXPECT_EQ(l.size(), 2u);
}

TEST(ConfirmLedgerTest, AMultipleAckSettlesEverythingUpToItInOrder) {
  ConfirmLedger l = ledgerOf({1, 2, 3, 5, 8});
  EXPECT_EQ(seqs(l.confirm(5, true, true)), (std::vector<uint64_t>{1, 2, 3, 5}));
  EXPECT_EQ(seqs(l.confirm(5, true, true)), std::vector<uint64_t>{});  // nothing twice
  EXPECT_EQ(l.size(), 1u);
}

TEST(ConfirmLedgerTest, NacksAreReportedAsSuch) {
  ConfirmLedger l = ledgerOf({1, 2, 3});
  auto settled = l.confirm(2, true, /*ack=*/false);
  ASSERT_EQ(seqs(settled), (std::vector<uint64_t>{1, 2}));
  EXPECT_FALSE(settled[0].ack);
  EXPECT_FALSE(settled[1].ack);
}

TEST(ConfirmLedgerTest, UnknownTagsAreIgnored) {
  ConfirmLedger l = ledgerOf({2, 4});
  EXPECT_TRUE(l.confirm(3, false, true).empty());  // a reply's publish: nobody waits for it
  EXPECT_TRUE(l.confirm(1, true, true).empty());
  EXPECT_EQ(l.size(), 2u);
}

TEST(ConfirmLedgerTest, TakeAllEmptiesTheLedgerInSequenceOrder) {
  ConfirmLedger l = ledgerOf({3, 1, 2});
  EXPECT_EQ(seqs(l.takeAll()), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(l.empty());
  EXPECT_TRUE(l.confirm(3, true, true).empty());  // numbering restarts on the next channel
}

}  // namespace
}  // namespace nwg::rpc

// ConfirmLedger over an ordered map of sequence numbers.
#include "rpc/confirm_ledger.h"

namespace nwg::rpc {

void ConfirmLedger::add(uint64_t seq, Entry entry) {
  entries_[seq] = std::move(entry);
}

std::vector<ConfirmLedger::Settled> ConfirmLedger::confirm(uint64_t tag, bool multiple, bool ack) {
  std::vector<Settled> settled;
  auto first = entries_.begin();
  auto last = entries_.upper_bound(tag);
  if (!multiple) {
    first = entries_.find(tag);
    if (first == entries_.end()) return settled;
    last = std::next(first);
  }
  for (auto it = first; it != last; ++it) settled.push_back(Settled{it->first, std::move(it->second), ack});
  entries_.erase(first, last);
  return settled;
}

std::vector<ConfirmLedger::Settled> ConfirmLedger::takeAll() {
  std::vector<Settled> all;
  all.reserve(entries_.size());
  for (auto& [seq, entry] : entries_) all.push_back(Settled{seq, std::move(entry), false});
  entries_.clear();
  return all;
}

}  // namespace nwg::rpc

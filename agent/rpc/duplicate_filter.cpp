// A ring of the last 16 unique ids.
#include "rpc/duplicate_filter.h"

namespace nwg::rpc {

bool DuplicateFilter::firstSeen(std::string_view unique_id) {
  if (unique_id.empty()) return true;
  for (const auto& s : seen_) {
    if (s == unique_id) return false;
  }
  seen_[next_] = std::string(unique_id);
  next_ = (next_ + 1) % kCapacity;
  return true;
}

}  // namespace nwg::rpc

// oslo's duplicate-message check: a message whose _unique_id is among the last 16 seen is dropped
// (the broker may redeliver after a reconnect). Not thread-safe: owned by the I/O thread.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace nwg::rpc {

class DuplicateFilter {
 public:
  static constexpr size_t kCapacity = 16;  // oslo's DUP_MSG_CHECK_SIZE

  // True the first time `unique_id` is seen (then remembered); false for a duplicate. An empty id is
  // never a duplicate (older peers may not send one).
  bool firstSeen(std::string_view unique_id);

 private:
  std::array<std::string, kCapacity> seen_{};
  size_t next_ = 0;
};

}  // namespace nwg::rpc

// An eventfd that wakes RpcClient's I/O thread out of poll(2) (outgoing work, stop). Creation, writes
// and reads are checked: a client whose wake-ups fail must notice (it then polls on a short timer)
// instead of sleeping until its next heartbeat.
#pragma once

#include "base/result.h"
#include "base/unique_fd.h"

namespace nwg::rpc {

class WakeEvent {
 public:
  static Result<WakeEvent> create();

  int fd() const { return fd_.get(); }
  // Makes fd() readable. A saturated counter (EAGAIN) is success: a wake-up is pending anyway.
  Status signal() const;
  // Consumes pending wake-ups; none pending (EAGAIN) is success.
  Status drain() const;

 private:
  explicit WakeEvent(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace nwg::rpc

// ConnectInterrupt: the only part of a transport shared between threads.
#include "rpc/amqp_transport.h"

#include <sys/socket.h>

namespace nwg::rpc {

bool ConnectInterrupt::requested() const {
  std::lock_guard lock(mu_);
  return requested_;
}

void ConnectInterrupt::drainWake() const {
  if (wake_) (void)wake_->drain();
}

void ConnectInterrupt::request() {
  {
    std::lock_guard lock(mu_);
    requested_ = true;
  }
  // A failed wake-up only delays the opener until its next timed check (at most 100 ms).
  if (wake_) (void)wake_->signal();
}

void ConnectInterrupt::fire() {
  std::lock_guard lock(mu_);
  requested_ = true;
  fired_ = true;
  shutdownLocked();
  if (wake_) (void)wake_->signal();
}

void ConnectInterrupt::arm(int socket_fd) {
  std::lock_guard lock(mu_);
  armed_fd_ = socket_fd;
  if (fired_) shutdownLocked();
}

void ConnectInterrupt::disarm() {
  std::lock_guard lock(mu_);
  armed_fd_ = -1;
}

void ConnectInterrupt::shutdownLocked() {
  if (armed_fd_ >= 0) ::shutdown(armed_fd_, SHUT_RDWR);
}

}  // namespace nwg::rpc

// WakeEvent over eventfd(2).
#include "rpc/wake_event.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace nwg::rpc {

Result<WakeEvent> WakeEvent::create() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Error::fromErrno(errno, "eventfd for the RPC client's I/O thread");
  return WakeEvent(UniqueFd(fd));
}

Status WakeEvent::signal() const {
  const uint64_t one = 1;
  while (true) {
    const ssize_t n = ::write(fd_.get(), &one, sizeof one);
    if (n == static_cast<ssize_t>(sizeof one)) return okStatus();
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return okStatus();
    return Error::fromErrno(n < 0 ? errno : EIO, "waking the RPC client's I/O thread (eventfd write)");
  }
}

Status WakeEvent::drain() const {
  uint64_t value = 0;
  while (true) {
    const ssize_t n = ::read(fd_.get(), &value, sizeof value);
    if (n == static_cast<ssize_t>(sizeof value)) return okStatus();
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return okStatus();
    return Error::fromErrno(n < 0 ? errno : EIO, "reading the RPC client's wake-up eventfd");
  }
}

}  // namespace nwg::rpc

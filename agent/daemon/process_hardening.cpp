#include "daemon/process_hardening.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>

namespace nwg::daemon {

Status hardenProcess() {
  const rlimit none{0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0) return Error::fromErrno(errno, "setrlimit(RLIMIT_CORE, 0)");
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return Error::fromErrno(errno, "prctl(PR_SET_DUMPABLE, 0)");
  return okStatus();
}

}  // namespace nwg::daemon

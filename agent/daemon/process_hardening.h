// What the agent does to its own process before it reads a key: no core dumps (a core of the agent
// holds hubs' private keys) and not dumpable (no ptrace or /proc/<pid>/mem for other users). (The
// umask stays: files holding keys get their modes explicitly, and /run/netns must stay readable.)
#pragma once

#include "base/result.h"

namespace nwg::daemon {

// RLIMIT_CORE 0 (soft and hard), PR_SET_DUMPABLE 0.
Status hardenProcess();

}  // namespace nwg::daemon

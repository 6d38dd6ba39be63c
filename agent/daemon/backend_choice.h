// Which WireGuard transport the agent uses ([wireguard] backend): kernel when asked or when `auto`
// finds the kernel's "wireguard" generic netlink family, else wireguard-go when installed, else a clear
// error saying what to install.
#pragma once

#include <string>

#include "base/result.h"
#include "config/agent_config.h"

namespace nwg::daemon {

enum class BackendKind { kKernel, kUserspace };

// Pure: the decision from what the host offers.
Result<BackendKind> chooseBackend(config::Backend configured, bool kernel_available, bool userspace_available,
                                  const std::string& wireguard_go);

}  // namespace nwg::daemon

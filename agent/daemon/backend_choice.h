// Which WireGuard transport the agent uses ([wireguard] backend): kernel when asked or when `auto`
// finds the kernel's "wireguard" generic netlink family, else wireguard-go when installed, else a clear
// error saying what to install.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "config/agent_config.h"

namespace nwg::daemon {

enum class BackendKind { kKernel, kUserspace };

// The executable `name` refers to: itself when it contains a '/', else the first match in `path_env`
// (a PATH-style list; systemd's default when empty), as a shell would find it. Nothing when not found.
std::optional<std::string> resolveExecutable(const std::string& name, const std::string& path_env);

// Pure: the decision from what the host offers.
Result<BackendKind> chooseBackend(config::Backend configured, bool kernel_available, bool userspace_available,
                                  const std::string& wireguard_go);

}  // namespace nwg::daemon

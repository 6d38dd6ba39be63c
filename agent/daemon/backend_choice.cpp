#include "daemon/backend_choice.h"

#include <unistd.h>

namespace nwg::daemon {

std::optional<std::string> resolveExecutable(const std::string& name, const std::string& path_env) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return name;
    return std::nullopt;
  }
  const std::string path = path_env.empty() ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" : path_env;
  for (std::string_view dir : split(path, ':')) {
    if (dir.empty()) continue;
    std::string candidate = str(dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

Result<BackendKind> chooseBackend(config::Backend configured, bool kernel_available, bool userspace_available,
                                  const std::string& wireguard_go) {
  switch (configured) {
    case config::Backend::kKernel:
      if (!kernel_available) {
        return fail("[wireguard] backend = kernel, but this kernel has no WireGuard (generic netlink family "
                    "'wireguard' not found): load the wireguard module (modprobe wireguard) or set "
                    "backend = userspace with wireguard-go installed");
      }
      return BackendKind::kKernel;
    case config::Backend::kUserspace:
      if (!userspace_available) {
        return fail("[wireguard] backend = userspace, but wireguard-go ('", wireguard_go,
                    "') cannot run here: install it (apt-get install wireguard-go) or fix [wireguard] "
                    "wireguard_go; /dev/net/tun must exist");
      }
      return BackendKind::kUserspace;
    case config::Backend::kAuto:
      if (kernel_available) return BackendKind::kKernel;
      if (userspace_available) return BackendKind::kUserspace;
      return fail("no WireGuard available: this kernel has no WireGuard module and wireguard-go ('", wireguard_go,
                  "') is not installed; load the wireguard kernel module or install wireguard-go "
                  "(apt-get install wireguard-go)");
  }
  return fail("unknown [wireguard] backend");
}

}  // namespace nwg::daemon

#include "daemon/backend_choice.h"

namespace nwg::daemon {

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

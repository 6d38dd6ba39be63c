// Which interface names a WireGuard backend accepts: the kernel's rules (IFNAMSIZ) narrowed to what is
// also a safe file name and program argument (wireguard-go takes `--help` as a name and creates it).
#pragma once

#include <string_view>

#include "base/result.h"

namespace nwg::wg {

// 1-15 characters of [A-Za-z0-9_.-], not starting with '-' or '.'. The error (code EINVAL) names the
// offending name and the rule it breaks.
Status validateInterfaceName(std::string_view ifname);

}  // namespace nwg::wg

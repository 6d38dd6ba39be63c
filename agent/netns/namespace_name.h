// The rule for a named network namespace's name, shared by LinuxNamespaces and FakeNamespaces so both
// refuse the same names with the same error.
#pragma once

#include <string>

#include "base/result.h"

namespace nwg {

// A name usable as /run/netns/NAME: non-empty, at most 255 bytes, no '/', not "." or "..".
// Fails with EINVAL.
Status validateNamespaceName(const std::string& name);

// A sysctl key relative to /proc/sys ("net/ipv4/ip_forward"): no "..", no leading '/'. Fails with EINVAL.
Status validateSysctlKey(const std::string& key);

}  // namespace nwg

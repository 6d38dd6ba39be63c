// Named network namespaces, compatible with iproute2 (/run/netns/NAME, so `ip netns exec NAME wg show`
// works). "" always means the agent's own namespace.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace nwg {

class Namespaces {
 public:
  virtual ~Namespaces() = default;

  // Names under /run/netns.
  virtual Result<std::vector<std::string>> list() = 0;
  virtual Result<bool> exists(const std::string& name) = 0;
  // Idempotent: an existing namespace of that name is success.
  virtual Status create(const std::string& name) = 0;
  // Idempotent: an absent namespace is success.
  virtual Status remove(const std::string& name) = 0;

  // Writes /proc/sys/<key> as seen from inside the namespace, e.g. ("tun-p", "net/ipv4/ip_forward", "1").
  virtual Status setSysctl(const std::string& netns, const std::string& key, const std::string& value) = 0;
  virtual Result<std::string> sysctl(const std::string& netns, const std::string& key) = 0;
};

}  // namespace nwg

// Validation of namespace names and sysctl keys (see namespace_name.h).
#include "netns/namespace_name.h"

#include <cerrno>

#include "base/strings.h"

namespace nwg {

Status validateNamespaceName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == ".." ||
      name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
    return Error(str("invalid namespace name '", name, "'"), EINVAL);
  }
  return okStatus();
}

Status validateSysctlKey(const std::string& key) {
  bool bad = key.empty() || key.front() == '/' || key.find('\0') != std::string::npos;
  for (std::string_view part : split(key, '/')) {
    if (part.empty() || part == "." || part == "..") bad = true;
  }
  if (bad) return Error(str("invalid sysctl key '", key, "'"), EINVAL);
  return okStatus();
}

}  // namespace nwg

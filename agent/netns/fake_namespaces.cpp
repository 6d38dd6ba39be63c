// In-memory named namespaces for unit tests (see fake_namespaces.h).
#include "netns/fake_namespaces.h"

#include <cerrno>

#include "netns/namespace_name.h"

namespace nwg {

FakeNamespaces::FakeNamespaces() {
  for (const auto& [key, value] : defaultSysctls()) sysctls_[{"", key}] = value;
}

const std::map<std::string, std::string>& FakeNamespaces::defaultSysctls() {
  static const std::map<std::string, std::string> defaults = {
      {"net/ipv4/ip_forward", "0"},
      {"net/ipv6/conf/all/forwarding", "0"},
      {"net/ipv6/conf/default/disable_ipv6", "0"},
      {"net/ipv4/conf/all/rp_filter", "0"},
      {"net/ipv4/conf/all/send_redirects", "1"},
      {"net/ipv4/conf/default/send_redirects", "1"},
  };
  return defaults;
}

Status FakeNamespaces::injected(const std::string& op) {
  auto it = failures_.find(op);
  if (it == failures_.end()) return okStatus();
  Error e = std::move(it->second);
  failures_.erase(it);
  return e;
}

Result<std::vector<std::string>> FakeNamespaces::list() {
  NWG_RETURN_IF_ERROR(injected("list"));
  return std::vector<std::string>(names_.begin(), names_.end());
}

Result<bool> FakeNamespaces::exists(const std::string& name) {
  NWG_RETURN_IF_ERROR(validateNamespaceName(name));
  NWG_RETURN_IF_ERROR(injected("exists"));
  return names_.count(name) > 0;
}

Status FakeNamespaces::create(const std::string& name) {
  NWG_RETURN_IF_ERROR(validateNamespaceName(name));
  NWG_RETURN_IF_ERROR(injected("create"));
  if (names_.count(name)) return okStatus();
  ++mutations_;
  names_.insert(name);
  for (const auto& [key, value] : defaultSysctls()) sysctls_[{name, key}] = value;
  return okStatus();
}

Status FakeNamespaces::remove(const std::string& name) {
  NWG_RETURN_IF_ERROR(validateNamespaceName(name));
  NWG_RETURN_IF_ERROR(injected("remove"));
  if (!names_.count(name)) return okStatus();
  ++mutations_;
  names_.erase(name);
  for (auto it = sysctls_.begin(); it != sysctls_.end();) {
    it = it->first.first == name ? sysctls_.erase(it) : std::next(it);
  }
  return okStatus();
}

Status FakeNamespaces::setSysctl(const std::string& netns, const std::string& key, const std::string& value) {
  NWG_RETURN_IF_ERROR(validateSysctlKey(key));
  if (!netns.empty()) NWG_RETURN_IF_ERROR(validateNamespaceName(netns));
  NWG_RETURN_IF_ERROR(injected("setSysctl"));
  if (!netns.empty() && !names_.count(netns)) {
    return Error(str("namespace ", netns, ": No such file or directory"), ENOENT);
  }
  auto it = sysctls_.find({netns, key});
  if (it == sysctls_.end()) {
    return Error(str("namespace ", netns, ": sysctl ", key, ": No such file or directory"), ENOENT);
  }
  ++mutations_;
  it->second = value;
  return okStatus();
}

Result<std::string> FakeNamespaces::sysctl(const std::string& netns, const std::string& key) {
  NWG_RETURN_IF_ERROR(validateSysctlKey(key));
  if (!netns.empty()) NWG_RETURN_IF_ERROR(validateNamespaceName(netns));
  NWG_RETURN_IF_ERROR(injected("sysctl"));
  if (!netns.empty() && !names_.count(netns)) {
    return Error(str("namespace ", netns, ": No such file or directory"), ENOENT);
  }
  auto it = sysctls_.find({netns, key});
  if (it == sysctls_.end()) {
    return Error(str("namespace ", netns, ": sysctl ", key, ": No such file or directory"), ENOENT);
  }
  return it->second;
}

}  // namespace nwg

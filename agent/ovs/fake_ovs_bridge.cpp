// FakeOvsBridge (see fake_ovs_bridge.h).
#include "ovs/fake_ovs_bridge.h"

#include "base/strings.h"

namespace nwg::ovs {

Status FakeOvsBridge::injected(const std::string& op) {
  auto it = failures_.find(op);
  if (it == failures_.end()) return okStatus();
  Error e = std::move(it->second);
  failures_.erase(it);
  return e;
}

Status FakeOvsBridge::addPort(const OvsPort& port) {
  NWG_RETURN_IF_ERROR(injected("addPort"));
  auto it = ports_.find(port.name);
  if (it != ports_.end() && it->second == port) return okStatus();
  ++mutations_;
  ports_[port.name] = port;
  return okStatus();
}

Status FakeOvsBridge::deletePort(const std::string& name) {
  NWG_RETURN_IF_ERROR(injected("deletePort"));
  if (ports_.erase(name)) ++mutations_;
  return okStatus();
}

Result<std::map<std::string, OvsPort>> FakeOvsBridge::listPorts() {
  ++lists_;
  NWG_RETURN_IF_ERROR(injected("listPorts"));
  std::map<std::string, OvsPort> out;
  for (const auto& [name, port] : ports_) {
    if (isPlugPort(name)) out[name] = port;
  }
  return out;
}

std::string FakeOvsBridge::describeAdd(const OvsPort& port) const {
  return join(addPortArgv(VsctlOptions{}, port), " ");
}

std::string FakeOvsBridge::describeDelete(const std::string& name) const {
  return join(deletePortArgv(VsctlOptions{}, name), " ");
}

}  // namespace nwg::ovs

// FakeOvsBridge: an in-memory OvsBridge for unit tests (ovs_bridge.h).
#pragma once

#include <map>
#include <string>

#include "ovs/ovs_bridge.h"

namespace nwg::ovs {

// In memory: ports by name, with their external_ids; failures injected per operation.
class FakeOvsBridge final : public OvsBridge {
 public:
  Status addPort(const OvsPort& port) override;
  Status deletePort(const std::string& name) override;
  Result<std::map<std::string, OvsPort>> listPorts() override;
  std::string describeAdd(const OvsPort& port) const override;
  std::string describeDelete(const std::string& name) const override;

  const std::map<std::string, OvsPort>& ports() const { return ports_; }
  void addExisting(OvsPort port) { ports_[port.name] = std::move(port); }
  // The next call of `op` ("addPort", "deletePort", "listPorts") fails with `error`.
  void failNext(const std::string& op, Error error) { failures_[op] = std::move(error); }
  int mutations() const { return mutations_; }
  int lists() const { return lists_; }

 private:
  Status injected(const std::string& op);

  std::map<std::string, OvsPort> ports_;
  std::map<std::string, Error> failures_;
  int mutations_ = 0;
  int lists_ = 0;
};

}  // namespace nwg::ovs

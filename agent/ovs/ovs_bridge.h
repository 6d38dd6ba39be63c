// The OVS integration bridge as the agent uses it: the root end of an OVN-routed hub's plug (a veth
// "wgo-…") added as a port whose interface carries external_ids:iface-id = the plug port's ID, so
// that ovn-controller binds the logical port on this chassis (as OVN's metadata agent plugs its
// namespaces). VsctlBridge is the real one (ovs-vsctl); FakeOvsBridge the unit tests' stand-in.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace nwg::ovs {

// The ports the agent manages are named like this ("wgo-" + 11 characters of the plug port's ID).
inline constexpr std::string_view kPlugPortPrefix = "wgo-";
// The interface's external_ids key naming the agent that added the port (its [DEFAULT] host): the
// ownership mark of a port whose link is gone. Cleanup removes only ports marked with its own host.
inline constexpr std::string_view kOwnerKey = "neutron-wireguard-agent";

struct OvsPort {
  std::string name;        // "wgo-…"
  std::string iface_id;    // the Neutron (OVN logical) port's ID
  std::string mac;         // its MAC address, "fa:16:3e:…" (external_ids:attached-mac)
  std::string owner = {};  // external_ids:neutron-wireguard-agent, "" when unmarked
  bool operator==(const OvsPort&) const = default;
};

class OvsBridge {
 public:
  virtual ~OvsBridge() = default;
  // Idempotent: the port is added if missing, and its interface's external_ids (iface-id,
  // attached-mac, iface-status=active and, when `owner` is set, the ownership mark) set either way,
  // in the same transaction.
  virtual Status addPort(const OvsPort& port) = 0;
  // Idempotent: a missing port is success.
  virtual Status deletePort(const std::string& name) = 0;
  // The interfaces named "wgo-*" in the database, by name, with their external_ids (iface-id,
  // attached-mac, the ownership mark; "" when unset).
  virtual Result<std::map<std::string, OvsPort>> listPorts() = 0;
  // The command each operation runs, for dry_run's log (argv joined by spaces).
  virtual std::string describeAdd(const OvsPort& port) const = 0;
  virtual std::string describeDelete(const std::string& name) const = 0;
};

struct VsctlOptions {
  std::string ovs_vsctl = "ovs-vsctl";                   // the executable's path; "" when it is not installed
  std::string bridge = "br-int";                         // [ovs] integration_bridge
  std::string db = "unix:/var/run/openvswitch/db.sock";  // [ovs] ovsdb_connection; "" = ovs-vsctl's default
  int timeout_seconds = 10;
};

// "wgo-" and more: a name the agent's plug ports have.
bool isPlugPort(std::string_view name);

// Pure: the argv of each operation (tested without ovs-vsctl).
std::vector<std::string> addPortArgv(const VsctlOptions& options, const OvsPort& port);
std::vector<std::string> deletePortArgv(const VsctlOptions& options, const std::string& name);
std::vector<std::string> listPortsArgv(const VsctlOptions& options);
// Parses `ovs-vsctl --format=json --columns=name,external_ids list Interface`: the "wgo-*" ones.
Result<std::map<std::string, OvsPort>> parseListPorts(std::string_view json_text);

class CommandRunner;

class VsctlBridge final : public OvsBridge {
 public:
  VsctlBridge(VsctlOptions options, CommandRunner& runner) : options_(std::move(options)), runner_(runner) {}

  Status addPort(const OvsPort& port) override;
  Status deletePort(const std::string& name) override;
  Result<std::map<std::string, OvsPort>> listPorts() override;
  std::string describeAdd(const OvsPort& port) const override;
  std::string describeDelete(const std::string& name) const override;

 private:
  Result<std::string> run(const std::vector<std::string>& argv, const std::string& what);

  VsctlOptions options_;
  CommandRunner& runner_;
};

}  // namespace nwg::ovs

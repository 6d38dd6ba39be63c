// VsctlBridge and FakeOvsBridge (see ovs_bridge.h).
#include "ovs/ovs_bridge.h"

#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "ovs/command_runner.h"

namespace nwg::ovs {

namespace {

using nlohmann::json;

std::vector<std::string> common(const VsctlOptions& options) {
  std::vector<std::string> argv = {options.ovs_vsctl.empty() ? std::string("ovs-vsctl") : options.ovs_vsctl};
  if (!options.db.empty()) argv.push_back("--db=" + options.db);
  argv.push_back(str("--timeout=", options.timeout_seconds));
  return argv;
}

// An OVSDB map in JSON ["map", [[k, v], ...]]: the value of `key`, "" when absent.
Result<std::string> mapValue(const json& column, std::string_view key) {
  if (!column.is_array() || column.size() != 2 || column[0] != "map" || !column[1].is_array()) {
    return fail("external_ids is not an OVSDB map");
  }
  for (const auto& pair : column[1]) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string())
      return fail("malformed external_ids entry");
    if (pair[0].get_ref<const std::string&>() == key) {
      if (!pair[1].is_string()) return fail("external_ids:", key, " is not a string");
      return pair[1].get<std::string>();
    }
  }
  return std::string();
}

}  // namespace

bool isPlugPort(std::string_view name) {
  return name.size() > kPlugPortPrefix.size() && startsWith(name, kPlugPortPrefix);
}

std::vector<std::string> addPortArgv(const VsctlOptions& options, const OvsPort& port) {
  std::vector<std::string> argv = common(options);
  // --no-wait: OVN reports the port up once ovn-controller sees the interface; nothing here needs to
  // wait for ovs-vswitchd to have reconfigured (it would hang without one).
  argv.insert(argv.end(), {"--no-wait", "--", "--may-exist", "add-port", options.bridge, port.name, "--",
                           "set", "Interface", port.name, "external_ids:iface-id=" + port.iface_id,
                           "external_ids:attached-mac=" + port.mac, "external_ids:iface-status=active"});
  // The ownership mark, in the same transaction: no moment where the port exists unmarked.
  if (!port.owner.empty()) argv.push_back(str("external_ids:", kOwnerKey, "=", port.owner));
  return argv;
}

std::vector<std::string> deletePortArgv(const VsctlOptions& options, const std::string& name) {
  std::vector<std::string> argv = common(options);
  argv.insert(argv.end(), {"--no-wait", "--", "--if-exists", "del-port", options.bridge, name});
  return argv;
}

std::vector<std::string> listPortsArgv(const VsctlOptions& options) {
  std::vector<std::string> argv = common(options);
  argv.insert(argv.end(), {"--format=json", "--columns=name,external_ids", "list", "Interface"});
  return argv;
}

Result<std::map<std::string, OvsPort>> parseListPorts(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return fail("ovs-vsctl list Interface: output is not JSON");
  auto headings = doc.find("headings");
  auto data = doc.find("data");
  if (headings == doc.end() || !headings->is_array() || data == doc.end() || !data->is_array()) {
    return fail("ovs-vsctl list Interface: no 'headings' and 'data'");
  }
  int name_at = -1, ids_at = -1;
  for (size_t i = 0; i < headings->size(); ++i) {
    if ((*headings)[i] == "name") name_at = static_cast<int>(i);
    if ((*headings)[i] == "external_ids") ids_at = static_cast<int>(i);
  }
  if (name_at < 0 || ids_at < 0) return fail("ovs-vsctl list Interface: no 'name' or 'external_ids' column");
  std::map<std::string, OvsPort> out;
  for (const auto& row : *data) {
    if (!row.is_array() || row.size() != headings->size())
      return fail("ovs-vsctl list Interface: malformed row");
    const json& name = row[static_cast<size_t>(name_at)];
    if (!name.is_string()) return fail("ovs-vsctl list Interface: a name is not a string");
    const std::string& n = name.get_ref<const std::string&>();
    if (!isPlugPort(n)) continue;
    OvsPort port{n, "", ""};
    for (auto [key, field] : {std::pair<std::string_view, std::string*>{"iface-id", &port.iface_id},
                              {"attached-mac", &port.mac},
                              {kOwnerKey, &port.owner}}) {
      auto value = mapValue(row[static_cast<size_t>(ids_at)], key);
      if (!value) return std::move(value).error().context(str("ovs-vsctl list Interface: ", n));
      *field = std::move(*value);
    }
    out[n] = std::move(port);
  }
  return out;
}

Result<std::string> VsctlBridge::run(const std::vector<std::string>& argv, const std::string& what) {
  if (options_.ovs_vsctl.empty()) {
    return Error(str(what,
                     ": ovs-vsctl is not installed (not found on PATH); OVN-routed hubs need it "
                     "(Debian: openvswitch-switch)"),
                 ENOENT);
  }
  auto ran = runner_.run(argv, std::chrono::seconds(options_.timeout_seconds + 5));
  if (!ran) return std::move(ran).error().context(what);
  if (ran->exit_code != 0) {
    return Error(str(what, ": ", join(argv, " "), " exited with status ", ran->exit_code, ": ",
                     std::string(trim(ran->err))),
                 EIO);
  }
  return std::move(ran->out);
}

Status VsctlBridge::addPort(const OvsPort& port) {
  NWG_ASSIGN_OR_RETURN(auto out, run(addPortArgv(options_, port),
                                     str("add port ", port.name, " to OVS bridge ", options_.bridge)));
  (void)out;
  return okStatus();
}

Status VsctlBridge::deletePort(const std::string& name) {
  NWG_ASSIGN_OR_RETURN(auto out, run(deletePortArgv(options_, name),
                                     str("delete port ", name, " from OVS bridge ", options_.bridge)));
  (void)out;
  return okStatus();
}

Result<std::map<std::string, OvsPort>> VsctlBridge::listPorts() {
  NWG_ASSIGN_OR_RETURN(std::string out, run(listPortsArgv(options_), "list OVS interfaces"));
  return parseListPorts(out);
}

std::string VsctlBridge::describeAdd(const OvsPort& port) const {
  return join(addPortArgv(options_, port), " ");
}

std::string VsctlBridge::describeDelete(const std::string& name) const {
  return join(deletePortArgv(options_, name), " ");
}

}  // namespace nwg::ovs

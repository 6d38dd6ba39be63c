// PluginApi (neutron/agent/rpc.py PluginApi, served by neutron/plugins/ml2/rpc.py RpcCallbacks).
#include "rpc/neutron/plugin_api.h"

#include <algorithm>

namespace nwg::rpc {
namespace {

// A list of strings from an answer; anything else is a malformed reply, never an empty list.
bool readStrings(const nlohmann::json& answer, const char* key, std::vector<std::string>& out) {
  auto it = answer.find(key);
  if (it == answer.end() || it->is_null()) return true;
  if (!it->is_array()) return false;
  for (const auto& v : *it) {
    if (v.is_string()) {
      out.push_back(v.get<std::string>());
    } else {
      out.push_back(v.dump());  // a [mac, pci_slot] device: kept in its JSON form
    }
  }
  return true;
}

RpcError malformed(const std::string& what, const nlohmann::json& answer) {
  return RpcError{
      RpcErrorKind::kMalformedReply, str(what, ": unexpected answer ", answer.dump().substr(0, 200)), {}};
}

}  // namespace

RpcResult<DeviceListResult> PluginApi::updateDeviceList(const std::vector<std::string>& up,
                                                        const std::vector<std::string>& down,
                                                        bool refresh_tunnels) {
  DeviceListResult total;
  const size_t n = std::max(up.size(), down.size());
  for (size_t i = 0; i < n; i += chunk_) {  // nothing to report: no call, as neutron does
    auto slice = [&](const std::vector<std::string>& v) {
      const size_t b = std::min(i, v.size()), e = std::min(i + chunk_, v.size());
      return std::vector<std::string>(v.begin() + static_cast<std::ptrdiff_t>(b),
                                      v.begin() + static_cast<std::ptrdiff_t>(e));
    };
    nlohmann::json args = {{"devices_up", slice(up)},
                           {"devices_down", slice(down)},
                           {"agent_id", agent_id_},
                           {"host", host_},
                           {"refresh_tunnels", refresh_tunnels}};
    auto answer = rpc_.call(target(), "update_device_list", std::move(args));
    if (!answer.ok()) return std::move(answer).error();
    const nlohmann::json& a = *answer;
    if (!a.is_object()) return malformed("q-plugin.update_device_list", a);
    if (!readStrings(a, "devices_up", total.devices_up) ||
        !readStrings(a, "failed_devices_up", total.failed_devices_up) ||
        !readStrings(a, "failed_devices_down", total.failed_devices_down)) {
      return malformed("q-plugin.update_device_list", a);
    }
    if (auto d = a.find("devices_down"); d != a.end() && !d->is_null()) {
      if (!d->is_array()) return malformed("q-plugin.update_device_list", a);
      for (const auto& e : *d) {
        if (!e.is_object() || !e.contains("device")) return malformed("q-plugin.update_device_list", a);
        DeviceListResult::Down down_entry;
        down_entry.device = e["device"].is_string() ? e["device"].get<std::string>() : e["device"].dump();
        auto exists = e.find("exists");
        down_entry.exists = exists != e.end() && exists->is_boolean() && exists->get<bool>();
        total.devices_down.push_back(std::move(down_entry));
      }
    }
  }
  return total;
}

RpcStatus PluginApi::updateDeviceUp(const std::string& device) {
  auto answer =
      rpc_.call(target(), "update_device_up", {{"device", device}, {"agent_id", agent_id_}, {"host", host_}});
  if (!answer.ok()) return std::move(answer).error();
  return std::monostate{};
}

RpcResult<DeviceListResult::Down> PluginApi::updateDeviceDown(const std::string& device) {
  auto answer = rpc_.call(target(), "update_device_down",
                          {{"device", device}, {"agent_id", agent_id_}, {"host", host_}});
  if (!answer.ok()) return std::move(answer).error();
  const nlohmann::json& a = *answer;
  if (!a.is_object()) return malformed("q-plugin.update_device_down", a);
  DeviceListResult::Down r;
  r.device = device;
  auto exists = a.find("exists");
  r.exists = exists != a.end() && exists->is_boolean() && exists->get<bool>();
  return r;
}

RpcResult<nlohmann::json> PluginApi::getDevicesDetailsList(const std::vector<std::string>& devices) {
  auto answer = rpc_.call(target(), "get_devices_details_list",
                          {{"devices", devices}, {"agent_id", agent_id_}, {"host", host_}});
  if (!answer.ok()) return std::move(answer).error();
  if (!answer->is_array()) return malformed("q-plugin.get_devices_details_list", *answer);
  return answer;
}

}  // namespace nwg::rpc

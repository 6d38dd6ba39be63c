// Neutron's ML2 agent API on q-plugin (version 1.9), as neutron's PluginApi calls it (SPEC §6.1):
// port status (update_device_list / _up / _down) and port details (get_devices_details_list).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rpc/rpc_caller.h"

namespace nwg::rpc {

struct DeviceListResult {
  struct Down {
    std::string device;
    bool exists = false;
  };
  std::vector<std::string> devices_up;
  std::vector<std::string> failed_devices_up;
  std::vector<Down> devices_down;
  std::vector<std::string> failed_devices_down;
};

class PluginApi {
 public:
  static constexpr const char* kTopic = "q-plugin";
  static constexpr const char* kVersion = "1.9";

  // `agent_id` identifies the agent in the server's logs (neutron's L2 agents use e.g. "ovs-agent-<host>").
  // update_device_list is sent in chunks of `chunk` devices, as rpc_resources_processing_step does.
  // `topic` is Neutron's q-plugin except in tests against a stand-in server.
  PluginApi(RpcCaller& rpc, std::string host, std::string agent_id, size_t chunk = 20,
            std::string topic = kTopic)
      : rpc_(rpc),
        host_(std::move(host)),
        agent_id_(std::move(agent_id)),
        chunk_(chunk ? chunk : 20),
        topic_(std::move(topic)) {}

  // Ports up become ACTIVE, ports down DOWN. Only the binding host's updates count.
  RpcResult<DeviceListResult> updateDeviceList(const std::vector<std::string>& up,
                                               const std::vector<std::string>& down,
                                               bool refresh_tunnels = false);
  RpcStatus updateDeviceUp(const std::string& device);
  // {"device", "exists"} as the server answers.
  RpcResult<DeviceListResult::Down> updateDeviceDown(const std::string& device);
  // One dict per device, as ML2's _get_device_details builds them.
  RpcResult<nlohmann::json> getDevicesDetailsList(const std::vector<std::string>& devices);

 private:
  RpcTarget target() const { return RpcTarget(topic_, kVersion); }

  RpcCaller& rpc_;
  std::string host_;
  std::string agent_id_;
  size_t chunk_;
  std::string topic_;
};

}  // namespace nwg::rpc

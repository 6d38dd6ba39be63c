// Receives the driver's fanout notifications on q-wireguard-notifier (version 1.0, docs/rpc.md):
// hubs_changed(hub_ids) delivers the hub ids to a handler. Anyone who can publish on the vhost can send
// one, so the payload is checked before the agent sees it: hub_ids must be a list of Neutron port IDs
// (36 characters, lowercase hex and dashes as 8-4-4-4-12). A list of more than kMaxHubIds is delivered as
// nullopt ("re-sync everything"), with a warning; anything malformed is dropped with one warning line.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "logging/log.h"
#include "rpc/rpc_dispatcher.h"

namespace nwg::rpc {

class RpcClient;

// A Neutron port ID as the server writes it: a lowercase, dashed UUID.
bool isPortId(std::string_view id);

class HubNotificationConsumer {
 public:
  static constexpr const char* kTopic = "q-wireguard-notifier";
  static constexpr const char* kVersion = "1.0";
  // More hubs than this in one notification: not worth naming one by one, re-sync everything.
  static constexpr size_t kMaxHubIds = 10000;

  // Runs on the RPC client's I/O thread: it must only mark work (e.g. AgentLoop::hubsChanged).
  using Handler = std::function<void(const std::optional<std::vector<std::string>>& hub_ids)>;

  explicit HubNotificationConsumer(Handler handler,
                                   logging::Log log = logging::Log("networking_wireguard.agent.rpc"));

  // The endpoint (for tests and for custom wiring).
  std::shared_ptr<const RpcDispatcher> dispatcher() const { return dispatcher_; }
  // client.subscribe(q-wireguard-notifier, dispatcher()).
  Status subscribe(RpcClient& client) const;

 private:
  std::shared_ptr<const RpcDispatcher> dispatcher_;
};

}  // namespace nwg::rpc

// Receives the driver's fanout notifications on q-wireguard-notifier (version 1.0, docs/rpc.md):
// hubs_changed(hub_ids) delivers the hub ids to a handler. The payload is a hint: a malformed one is
// delivered as nullopt ("something changed, re-sync everything").
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "rpc/rpc_dispatcher.h"

namespace nwg::rpc {

class RpcClient;

class HubNotificationConsumer {
 public:
  static constexpr const char* kTopic = "q-wireguard-notifier";
  static constexpr const char* kVersion = "1.0";

  // Runs on the RPC client's I/O thread: it must only mark work (e.g. AgentLoop::hubsChanged).
  using Handler = std::function<void(const std::optional<std::vector<std::string>>& hub_ids)>;

  explicit HubNotificationConsumer(Handler handler);

  // The endpoint (for tests and for custom wiring).
  std::shared_ptr<const RpcDispatcher> dispatcher() const { return dispatcher_; }
  // client.subscribe(q-wireguard-notifier, dispatcher()).
  Status subscribe(RpcClient& client) const;

 private:
  std::shared_ptr<const RpcDispatcher> dispatcher_;
};

}  // namespace nwg::rpc

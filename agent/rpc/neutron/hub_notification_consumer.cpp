// HubNotificationConsumer: the hubs_changed endpoint.
#include "rpc/neutron/hub_notification_consumer.h"

#include "rpc/rpc_client.h"

namespace nwg::rpc {

HubNotificationConsumer::HubNotificationConsumer(Handler handler) {
  RpcEndpoint endpoint;
  endpoint.version = kVersion;
  endpoint.methods["hubs_changed"] = [handler = std::move(handler)](const nlohmann::json&,
                                                                    const nlohmann::json& args) {
    std::optional<std::vector<std::string>> ids;
    auto it = args.find("hub_ids");
    if (it != args.end() && it->is_array()) {
      ids.emplace();
      for (const auto& id : *it) {
        if (!id.is_string()) {
          ids.reset();
          break;
        }
        ids->push_back(id.get<std::string>());
      }
    }
    handler(ids);
    return MethodOutcome(nullptr);
  };
  dispatcher_ = std::make_shared<RpcDispatcher>(std::vector<RpcEndpoint>{std::move(endpoint)});
}

Status HubNotificationConsumer::subscribe(RpcClient& client) const {
  return client.subscribe(kTopic, dispatcher_);
}

}  // namespace nwg::rpc

// HubNotificationConsumer: the hubs_changed endpoint and its payload check.
#include "rpc/neutron/hub_notification_consumer.h"

#include "rpc/rpc_client.h"

namespace nwg::rpc {

bool isPortId(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

namespace {

// The hub ids of a hubs_changed call; an error names what is wrong (without echoing the payload).
Result<std::optional<std::vector<std::string>>> hubIds(const nlohmann::json& args) {
  const auto it = args.find("hub_ids");
  if (it == args.end()) return fail("no hub_ids");
  if (!it->is_array()) return fail("hub_ids is JSON ", it->type_name(), ", not a list");
  if (it->size() > HubNotificationConsumer::kMaxHubIds) return std::optional<std::vector<std::string>>();
  std::vector<std::string> ids;
  ids.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& id = (*it)[i];
    if (!id.is_string()) return fail("hub_ids[", i, "] is JSON ", id.type_name(), ", not a port ID");
    if (!isPortId(id.get_ref<const std::string&>())) {
      return fail("hub_ids[", i, "] is not a port ID: '", sanitizeForLog(id.get_ref<const std::string&>(), 40),
                  "'");
    }
    ids.push_back(id.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(ids));
}

}  // namespace

HubNotificationConsumer::HubNotificationConsumer(Handler handler, logging::Log log) {
  RpcEndpoint endpoint;
  endpoint.version = kVersion;
  endpoint.methods["hubs_changed"] = [handler = std::move(handler), log = std::move(log)](
                                         const nlohmann::json&, const nlohmann::json& args) {
    auto ids = hubIds(args);
    if (!ids.ok()) {
      log.warning("dropping a malformed hubs_changed notification: ", ids.error().message);
      return MethodOutcome(nullptr);
    }
    if (!*ids) {
      log.warning("a hubs_changed notification names ", args["hub_ids"].size(), " hubs (more than ", kMaxHubIds,
                  "): re-syncing every hub");
    }
    handler(*ids);
    return MethodOutcome(nullptr);
  };
  dispatcher_ = std::make_shared<RpcDispatcher>(std::vector<RpcEndpoint>{std::move(endpoint)});
}

Status HubNotificationConsumer::subscribe(RpcClient& client) const {
  return client.subscribe(kTopic, dispatcher_);
}

}  // namespace nwg::rpc

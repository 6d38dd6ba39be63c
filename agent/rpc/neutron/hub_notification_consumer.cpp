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

// The list of hub_ids, or nullptr when absent or not a list (pointers, not nlohmann's checked accessors:
// GCC's -Wnull-dereference cannot see through those).
const nlohmann::json::array_t* hubIdList(const nlohmann::json& args) {
  const auto it = args.find("hub_ids");
  return it == args.end() ? nullptr : it->get_ptr<const nlohmann::json::array_t*>();
}

// The hub ids of a hubs_changed call (nullopt: too many to name); an error says what is wrong without
// echoing more than a sanitized prefix of the payload.
Result<std::optional<std::vector<std::string>>> hubIds(const nlohmann::json& args) {
  const nlohmann::json::array_t* list = hubIdList(args);
  if (!list) return fail(args.contains("hub_ids") ? "hub_ids is not a list" : "no hub_ids");
  if (list->size() > HubNotificationConsumer::kMaxHubIds) return std::optional<std::vector<std::string>>();
  std::vector<std::string> ids;
  ids.reserve(list->size());
  size_t i = 0;
  for (const nlohmann::json& id : *list) {
    const auto* text = id.get_ptr<const std::string*>();
    if (!text) return fail("hub_ids[", i, "] is JSON ", id.type_name(), ", not a port ID");
    if (!isPortId(*text)) return fail("hub_ids[", i, "] is not a port ID: '", sanitizeForLog(*text, 40), "'");
    ids.push_back(*text);
    ++i;
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
      const nlohmann::json::array_t* list = hubIdList(args);
      log.warning("a hubs_changed notification names ", list ? list->size() : 0, " hubs (more than ",
                  kMaxHubIds, "): re-syncing every hub");
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

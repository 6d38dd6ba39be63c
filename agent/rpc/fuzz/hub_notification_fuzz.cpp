// Fuzzes the path of a notification from the broker to the agent: the AMQP body of a cast on
// q-wireguard-notifier, decoded within the JSON limits, dispatched by RpcDispatcher to
// HubNotificationConsumer. Whatever arrives, the agent's handler sees only port IDs (or "re-sync
// everything"), and nothing crashes or recurses on the attacker's depth.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "logging/logger.h"
#include "rpc/envelope.h"
#include "rpc/neutron/hub_notification_consumer.h"
#include "rpc/rpc_request.h"

namespace {

nwg::logging::Logger& quietLogger() {
  static nwg::logging::Logger logger;
  static const bool configured = [] {
    nwg::logging::LoggerOptions o;
    o.log_file = "/dev/null";
    return logger.configure(o).ok();
  }();
  (void)configured;
  return logger;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nwg::rpc;
  static const HubNotificationConsumer consumer(
      [](const std::optional<std::vector<std::string>>& ids) {
        if (!ids) return;
        if (ids->size() > HubNotificationConsumer::kMaxHubIds) std::abort();
        for (const auto& id : *ids) {
          if (!isPortId(id)) std::abort();
        }
      },
      nwg::logging::Log("fuzz", quietLogger()));
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto inner = Envelope::decode(body);
  if (!inner.ok()) return 0;
  auto request = RpcRequest::fromInner(std::move(inner).value());
  if (!request.ok()) return 0;
  auto outcome = consumer.dispatcher()->dispatch(*request);
  if (!outcome.ok() && outcome.error()->class_name.empty()) std::abort();
  return 0;
}

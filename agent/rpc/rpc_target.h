// Where a call or cast goes, as oslo's Target: topic, optional server (routing key "<topic>.<server>"),
// version and namespace sent in the message; fanout for casts to every consumer of the topic.
#pragma once

#include <optional>
#include <string>

namespace nwg::rpc {

struct RpcTarget {
  RpcTarget() = default;
  RpcTarget(std::string topic_name, std::optional<std::string> target_version)
      : topic(std::move(topic_name)), version(std::move(target_version)) {}

  std::string topic;
  std::optional<std::string> server;   // directed to one server's queue
  std::optional<std::string> version;  // "X.Y"
  std::optional<std::string> ns;       // namespace; Neutron's APIs have none
  bool fanout = false;                 // casts only: "<topic>_fanout" exchange
  // Calls only: oslo's call_monitor_timeout (seconds, sent as "_timeout"). The server then sends a
  // heartbeat reply every timeout/2 s while the method runs; they are tolerated, and the call still ends
  // at its own timeout.
  std::optional<int> call_monitor_timeout;

  // "topic.method" for messages.
  std::string describe(const std::string& method) const { return topic + "." + method; }
};

}  // namespace nwg::rpc

// Where a call or cast goes, as oslo's Target: topic, optional server (routing key "<topic>.<server>"),
// version and namespace sent in the message; fanout for casts to every consumer of the topic.
#pragma once

#include <optional>
#include <string>

namespace nwg::rpc {

struct RpcTarget {
  std::string topic;
  std::optional<std::string> server;  // directed to one server's queue
  std::optional<std::string> version;  // "X.Y"
  std::optional<std::string> ns;       // namespace; Neutron's APIs have none
  bool fanout = false;                 // casts only: "<topic>_fanout" exchange

  // "topic.method" for messages.
  std::string describe(const std::string& method) const { return topic + "." + method; }
};

}  // namespace nwg::rpc

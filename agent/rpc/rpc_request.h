// The inner message of a call, cast or fanout cast (SPEC §4.1), with its context unflattened. Pure codec.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/result.h"

namespace nwg::rpc {

struct RpcRequest {
  std::string method;
  nlohmann::json args = nlohmann::json::object();  // keyword arguments
  std::optional<std::string> version;              // "X.Y"; absent means 1.0 to the receiver
  std::optional<std::string> ns;                   // the target namespace; absent for Neutron's APIs
  std::optional<std::string> msg_id;               // calls only: echoed in the reply
  std::optional<std::string> reply_q;              // calls only: where the reply goes
  std::optional<int64_t> call_monitor_timeout;     // calls only: "_timeout" (null unless set)
  std::string unique_id;                           // fresh per message; receivers drop duplicates
  nlohmann::json context = nlohmann::json::object();

  bool isCall() const { return msg_id.has_value(); }

  // The inner message with "_context_*" keys; calls carry _msg_id, _reply_q and _timeout.
  nlohmann::json toInner() const;
  // Reads a decoded inner message: a string "method" and an object "args" (or none) are required.
  static Result<RpcRequest> fromInner(nlohmann::json inner);
};

}  // namespace nwg::rpc

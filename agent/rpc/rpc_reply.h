// The inner message of a reply (SPEC §4.2): result, failure (a JSON string), ending, _msg_id, _unique_id.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/result.h"

namespace nwg::rpc {

struct RpcReply {
  nlohmann::json result;               // null when absent
  std::optional<std::string> failure;  // RemoteError::serialize() text
  bool ending = true;                  // false: a call-monitor heartbeat (or a pre-Newton first part)
  std::string msg_id;
  std::string unique_id;

  bool isHeartbeat() const { return !ending && result.is_null() && !failure; }

  nlohmann::json toInner() const;
  // Requires a string _msg_id; a missing "ending" means false, as in oslo's ReplyWaiter.
  static Result<RpcReply> fromInner(nlohmann::json inner);
};

}  // namespace nwg::rpc

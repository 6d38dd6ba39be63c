// The request context that travels with every message, flattened into "_context_<key>" entries of the
// inner message (SPEC §4.3). Agents send neutron's admin context: 23 keys, a fresh request_id per
// message, the current UTC time as timestamp.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace nwg::rpc {

class RequestContext {
 public:
  // neutron_lib.context.get_admin_context_without_session().to_dict().
  static nlohmann::json admin(std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
  static std::string newRequestId();  // "req-<uuid4>"

  // Adds "_context_<key>": value to `inner` for every key of `context` (an object).
  static void flattenInto(const nlohmann::json& context, nlohmann::json& inner);
  // Removes the "_context_*" entries from `inner` and returns them as a context object.
  static nlohmann::json extractFrom(nlohmann::json& inner);
};

}  // namespace nwg::rpc

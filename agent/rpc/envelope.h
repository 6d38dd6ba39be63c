// oslo.messaging's message envelope 2.0 (SPEC §4): the AMQP body is a JSON object whose "oslo.message"
// is the JSON text of the inner message. Pure codec: no transport, unit-tested against golden bodies.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/result.h"
#include "rpc/json_limits.h"

namespace nwg::rpc {

class Envelope {
 public:
  // {"oslo.version": "2.0", "oslo.message": "<inner as JSON>"}; non-ASCII escaped as oslo does.
  static std::string encode(const nlohmann::json& inner);

  // The inner message of an envelope 2.x body (minor 0), or of a legacy unenveloped JSON object. The
  // body and the inner message (parsed a second time) are each held to `limits` before parsing.
  static Result<nlohmann::json> decode(std::string_view body, const JsonLimits& limits = JsonLimits{});
};

// JSON text as oslo's jsonutils.dumps would accept it back: ASCII only, invalid UTF-8 replaced.
std::string dumpJson(const nlohmann::json& value);

}  // namespace nwg::rpc

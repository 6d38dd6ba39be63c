// Bounds on JSON from the broker, checked before anything is parsed, copied or dumped: anyone who can
// publish on the vhost can send a body. The size bound is far above the largest legitimate message
// (get_hubs for a hub with 10,000 spokes is ~2.5 MB; 100 hubs x 100 spokes ~2.4 MB) and below what would
// hurt a network node; the depth bound is far above what oslo and Neutron send (under 10 levels) and keeps
// everything that walks a parsed value recursively (copies, comparisons, dump) on a small stack.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "base/result.h"

namespace nwg::rpc {

struct JsonLimits {
  size_t max_bytes = 64u << 20;  // 64 MiB
  size_t max_depth = 64;         // nested arrays/objects
};

// Fails when `text` nests arrays/objects deeper than `max_depth`: one linear pass, no recursion, strings
// and their escapes skipped. Says nothing else about validity (the parser decides that).
Status checkJsonDepth(std::string_view text, size_t max_depth);

// nlohmann::json::parse within `limits` (size first, then depth, then the parse). `what` names the text
// in errors ("message body", "envelope oslo.message").
Result<nlohmann::json> parseJsonWithin(std::string_view text, const JsonLimits& limits,
                                       std::string_view what);

}  // namespace nwg::rpc

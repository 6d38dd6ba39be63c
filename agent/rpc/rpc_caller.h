// What the Neutron API objects need from an RPC client: calls and casts. RpcClient implements it over
// RabbitMQ; unit tests use a scripted fake, so the APIs' message shapes are tested without a broker.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "rpc/rpc_error.h"
#include "rpc/rpc_target.h"

namespace nwg::rpc {

using RpcStatus = RpcResult<std::monostate>;

class RpcCaller {
 public:
  virtual ~RpcCaller() = default;

  // Sends `method(**args)` and waits for its result, at most `timeout` (default: rpc_response_timeout).
  // Thread-safe; may be called from any thread but the client's own I/O thread.
  virtual RpcResult<nlohmann::json> call(const RpcTarget& target, const std::string& method,
                                         nlohmann::json args,
                                         std::optional<std::chrono::milliseconds> timeout = std::nullopt) = 0;

  // Sends without waiting for a result; returns once the broker confirmed it (publisher confirm).
  virtual RpcStatus cast(const RpcTarget& target, const std::string& method, nlohmann::json args) = 0;
};

}  // namespace nwg::rpc

// Serving side of oslo RPC: endpoints (namespace, version, methods) and oslo's dispatch rules
// (SPEC §5.6): an endpoint matches when its namespace equals the request's and the requested version is
// compatible (same major, minor not above the endpoint's); the first match that has the method runs it.
// A compatible endpoint without the method gives NoSuchMethod, no compatible endpoint UnsupportedVersion.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "rpc/remote_error.h"
#include "rpc/rpc_request.h"

namespace nwg::rpc {

// What a method returns: a result, or an exception for the caller (sent as the reply's failure).
class MethodOutcome {
 public:
  MethodOutcome(nlohmann::json result = nullptr)
      : result_(std::move(result)) {}                             // NOLINT: implicit by design
  MethodOutcome(RemoteError error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return !error_.has_value(); }
  const nlohmann::json& result() const { return result_; }
  const std::optional<RemoteError>& error() const { return error_; }

 private:
  nlohmann::json result_;
  std::optional<RemoteError> error_;
};

// A method: (context, keyword args) -> outcome.
using RpcMethod = std::function<MethodOutcome(const nlohmann::json& context, const nlohmann::json& args)>;

struct RpcEndpoint {
  std::optional<std::string> ns;       // nullopt: requests without a namespace
  std::optional<std::string> version;  // "X.Y"; nullopt accepts every version (as oslo's None)
  std::map<std::string, RpcMethod, std::less<>> methods;
};

// oslo_messaging._utils.version_is_compatible; a malformed version is an error.
Result<bool> versionIsCompatible(std::string_view implemented, std::string_view requested);

class RpcDispatcher {
 public:
  RpcDispatcher() = default;
  explicit RpcDispatcher(std::vector<RpcEndpoint> endpoints) : endpoints_(std::move(endpoints)) {}

  void addEndpoint(RpcEndpoint endpoint) { endpoints_.push_back(std::move(endpoint)); }

  // Runs the request's method; NoSuchMethod / UnsupportedVersion / ValueError (a malformed version) come
  // back as outcomes with oslo's class, module and message.
  MethodOutcome dispatch(const RpcRequest& request) const;

 private:
  std::vector<RpcEndpoint> endpoints_;
};

}  // namespace nwg::rpc

#include "daemon/metered_caller.h"

#include <algorithm>

namespace nwg::daemon {
namespace {

// "connection lost" -> "connection_lost": label values without spaces, as Prometheus users expect.
std::string kindLabel(rpc::RpcErrorKind kind) {
  std::string k(rpc::rpcErrorKindName(kind));
  std::replace(k.begin(), k.end(), ' ', '_');
  return k;
}

}  // namespace

rpc::RpcResult<nlohmann::json> MeteredCaller::call(const rpc::RpcTarget& target, const std::string& method,
                                                   nlohmann::json args,
                                                   std::optional<std::chrono::milliseconds> timeout) {
  auto result = inner_.call(target, method, std::move(args), timeout);
  if (!result.ok()) metrics_.rpcError(method, kindLabel(result.error().kind));
  return result;
}

rpc::RpcStatus MeteredCaller::cast(const rpc::RpcTarget& target, const std::string& method,
                                   nlohmann::json args) {
  auto result = inner_.cast(target, method, std::move(args));
  if (!result.ok()) metrics_.rpcError(method, kindLabel(result.error().kind));
  return result;
}

}  // namespace nwg::daemon

// oslo_messaging/rpc/dispatcher.py RPCDispatcher.dispatch, and version_is_compatible.
#include "rpc/rpc_dispatcher.h"

#include "config/option_types.h"

namespace nwg::rpc {
namespace {

struct Version {
  int64_t major = 0, minor = 0, rev = 0;
};

// Python: parts = v.split('.'); int(parts[0]), int(parts[1]), int(parts[2]) if present.
Result<Version> parseVersion(std::string_view text) {
  const auto parts = split(text, '.');
  if (parts.size() < 2) return fail("invalid RPC version '", sanitizeForLog(text, 32), "'");
  Version v;
  int64_t* fields[] = {&v.major, &v.minor, &v.rev};
  for (size_t i = 0; i < parts.size() && i < 3; ++i) {
    auto n = config::parseInt(parts[i]);
    if (!n.ok()) return fail("invalid RPC version '", sanitizeForLog(text, 32), "'");
    *fields[i] = *n;
  }
  return v;
}

}  // namespace

Result<bool> versionIsCompatible(std::string_view implemented, std::string_view requested) {
  NWG_ASSIGN_OR_RETURN(Version imp, parseVersion(implemented));
  NWG_ASSIGN_OR_RETURN(Version req, parseVersion(requested));
  if (req.major != imp.major) return false;
  if (req.minor > imp.minor) return false;
  if (req.minor == imp.minor && req.rev > imp.rev) return false;
  return true;
}

MethodOutcome RpcDispatcher::dispatch(const RpcRequest& request) const {
  const std::string version = request.version.value_or("1.0");
  bool found_compatible = false;
  for (const auto& endpoint : endpoints_) {
    if (endpoint.ns != request.ns) continue;
    if (endpoint.version) {
      auto compatible = versionIsCompatible(*endpoint.version, version);
      if (!compatible.ok()) return RemoteError::make("ValueError", "builtins", compatible.error().message);
      if (!*compatible) continue;
    }
    auto method = endpoint.methods.find(request.method);
    if (method != endpoint.methods.end()) return method->second(request.context, request.args);
    found_compatible = true;
  }
  if (found_compatible) {
    return RemoteError::make("NoSuchMethod", "oslo_messaging.rpc.dispatcher",
                             "Endpoint does not support RPC method " + request.method);
  }
  return RemoteError::make(
      "UnsupportedVersion", "oslo_messaging.rpc.dispatcher",
      str("Endpoint does not support RPC version ", version, ". Attempted method: ", request.method));
}

}  // namespace nwg::rpc

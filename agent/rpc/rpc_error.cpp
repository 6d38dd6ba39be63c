// RpcError classification of remote failures.
#include "rpc/rpc_error.h"

namespace nwg::rpc {

std::string_view rpcErrorKindName(RpcErrorKind kind) {
  switch (kind) {
    case RpcErrorKind::kTimeout:
      return "timeout";
    case RpcErrorKind::kConnectionLost:
      return "connection lost";
    case RpcErrorKind::kRemoteError:
      return "remote error";
    case RpcErrorKind::kNoSuchMethod:
      return "no such method";
    case RpcErrorKind::kUnsupportedVersion:
      return "unsupported version";
    case RpcErrorKind::kMalformedReply:
      return "malformed reply";
    case RpcErrorKind::kPublishRefused:
      return "publish refused";
    case RpcErrorKind::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

RpcError RpcError::fromRemote(RemoteError remote, std::string_view what) {
  RpcError e;
  e.kind = remote.isNoSuchMethod()         ? RpcErrorKind::kNoSuchMethod
           : remote.isUnsupportedVersion() ? RpcErrorKind::kUnsupportedVersion
                                           : RpcErrorKind::kRemoteError;
  // The peer chose the text: one bounded line of printable ASCII (the raw text stays in `remote`).
  e.message = str(what, ": remote ", sanitizeForLog(remote.describe(), 500));
  e.remote = std::move(remote);
  return e;
}

}  // namespace nwg::rpc

// The typed failure of an RPC call: callers tell a timeout from a lost connection from a remote
// exception (and NoSuchMethod / UnsupportedVersion from other remote exceptions) without parsing text.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "base/result.h"
#include "rpc/remote_error.h"

namespace nwg::rpc {

enum class RpcErrorKind {
  kTimeout,             // no reply within the timeout (the server may still have run the method)
  kConnectionLost,      // not connected, or the connection broke while the call was in flight
  kRemoteError,         // the remote method raised: remote has class, module and message
  kNoSuchMethod,        // oslo_messaging.rpc.dispatcher.NoSuchMethod
  kUnsupportedVersion,  // oslo_messaging.rpc.dispatcher.UnsupportedVersion
  kMalformedReply,      // a reply that could not be decoded
  kPublishRefused,      // the broker refused the message (nack, channel error)
  kShutdown,            // the client is stopping
};

std::string_view rpcErrorKindName(RpcErrorKind kind);

struct RpcError {
  RpcErrorKind kind = RpcErrorKind::kTimeout;
  std::string message;                // names the call (topic, method) and the cause
  std::optional<RemoteError> remote;  // set for kRemoteError, kNoSuchMethod, kUnsupportedVersion

  // A failure reply, classified: NoSuchMethod / UnsupportedVersion / other remote errors.
  static RpcError fromRemote(RemoteError remote, std::string_view what);

  Error toError() const { return Error(message); }
};

// Result<T> with an RpcError instead of an Error.
template <typename T>
class [[nodiscard]] RpcResult {
 public:
  RpcResult(T value) : v_(std::in_place_index<0>, std::move(value)) {}         // NOLINT: implicit by design
  RpcResult(RpcError error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const RpcError& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  RpcError&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

  // For callers that only need a message.
  Result<T> toResult() && {
    if (ok()) return std::move(*this).value();
    return std::get<1>(v_).toError();
  }

 private:
  std::variant<T, RpcError> v_;
};

}  // namespace nwg::rpc

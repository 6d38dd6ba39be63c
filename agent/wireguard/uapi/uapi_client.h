// The transport half of the UAPI: wireguard-go's unix socket /var/run/wireguard/<ifname>.sock, one
// request per connection (wireguard-go's reader drops a second request sent on the same connection),
// with an inactivity timeout so a stopped or wedged process cannot hang the agent.
//
// Requests and replies carry private keys: the process on the other end must be root's or the
// agent's own (SO_PEERCRED, checked before anything is sent: a socket another user planted under a
// device's name gets nothing), replies are capped in size, and every buffer is wiped after use.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/secret.h"

namespace nwg::wg::uapi {

// Where a reply goes as it arrives (UapiBackend::get decodes a 10,000-peer reply without holding it).
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // Takes received bytes up to the reply's end; returns true once the end has been taken (bytes
  // after it are not part of the reply and are dropped).
  virtual bool take(std::string_view bytes) = 0;
};

class UapiClient {
 public:
  // What is behind a socket path.
  enum class SocketState {
    kAbsent,  // no file
    kStale,   // a file nobody listens on (ECONNREFUSED): its wireguard-go was killed
    kLive,    // a process accepts connections on it
  };

  // A get of 100,000 peers is about 40 MB of text; a reply past this limit is an error.
  static constexpr size_t kDefaultMaxReply = size_t{128} << 20;

  UapiClient(std::string socket_dir, std::chrono::milliseconds timeout, size_t max_reply = kDefaultMaxReply)
      : socket_dir_(std::move(socket_dir)), timeout_(timeout), max_reply_(max_reply) {}

  std::string socketPath(std::string_view ifname) const;

  // Connects, checks who listens, sends `request`, reads until the reply's blank line and closes.
  // Errors carry an errno: ENODEV when there is no socket or it is stale (the message says which),
  // EPERM when the listener is neither root nor the agent's user, ETIMEDOUT when nothing moved for the
  // timeout, EPIPE when wireguard-go closed the connection without a complete reply, EMSGSIZE when the
  // reply is larger than the limit.
  Result<SecretString> exchange(std::string_view ifname, std::string_view request) const;

  // The same, handing the reply to `sink` as it arrives instead of keeping it: the same errors, and
  // the limit counts what the sink took. The buffer the bytes pass through is wiped.
  Status exchange(std::string_view ifname, std::string_view request, ReplySink& sink) const;

  // Looks at the socket without sending anything.
  Result<SocketState> probe(std::string_view ifname) const;

 private:
  std::string socket_dir_;
  std::chrono::milliseconds timeout_;
  size_t max_reply_;
};

}  // namespace nwg::wg::uapi

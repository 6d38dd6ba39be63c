// The transport half of the UAPI: wireguard-go's unix socket /var/run/wireguard/<ifname>.sock, one
// request per connection (wireguard-go's reader drops a second request sent on the same connection),
// with an inactivity timeout so a stopped or wedged process cannot hang the agent.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"

namespace nwg::wg::uapi {

class UapiClient {
 public:
  // What is behind a socket path.
  enum class SocketState {
    kAbsent,  // no file
    kStale,   // a file nobody listens on (ECONNREFUSED): its wireguard-go was killed
    kLive,    // a process accepts connections on it
  };

  UapiClient(std::string socket_dir, std::chrono::milliseconds timeout)
      : socket_dir_(std::move(socket_dir)), timeout_(timeout) {}

  std::string socketPath(std::string_view ifname) const;

  // Connects, sends `request`, reads until the reply's blank line and closes. Errors carry an errno:
  // ENODEV when there is no socket or it is stale (the message says which), ETIMEDOUT when nothing
  // moved for the timeout, EPIPE when wireguard-go closed the connection without a complete reply.
  Result<std::string> exchange(std::string_view ifname, std::string_view request) const;

  // Looks at the socket without sending anything.
  Result<SocketState> probe(std::string_view ifname) const;

 private:
  std::string socket_dir_;
  std::chrono::milliseconds timeout_;
};

}  // namespace nwg::wg::uapi

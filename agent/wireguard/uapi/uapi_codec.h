// The text of wireguard-go's UAPI (the cross-platform userspace API of wireguard.com/xplatform):
// pure functions between the device model and `set=1` / `get=1` messages, no sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/secret.h"
#include "wireguard/device.h"
#include "wireguard/peer_key_index.h"

namespace nwg::wg::uapi {

// "get=1\n\n".
std::string encodeGetRequest();

// A complete `set=1` request for `update` (see device.h: absent fields are not sent), ending with the
// blank line. Keys are lower-case hex; flags are sent only when set (replace_peers=true, remove=true,
// update_only=true, replace_allowed_ips=true; wireguard-go rejects "=false"). A removed peer carries
// only its key and remove=true; every other peer section pins protocol_version=1.
std::string encodeSetRequest(const Device& update);

// Decodes the reply to `get=1` (ending "errno=N\n\n"). Strict: every known key's value is validated
// and must appear where it belongs (device keys before the first public_key); unknown keys are ignored
// for forward compatibility. A non-zero errno is returned as an Error carrying the errno.
// Peers listed more than once are merged. Read-back defaults are filled in: a peer always has a
// preshared key (all zero = none) and keepalive (0 = off), the device always has an fwmark (0 = none).
// The device's public_key stays absent: the UAPI does not report it and deriving it (an X25519
// multiplication) is not decoding; UapiBackend::get fills it in. Never logs or reports the private key.
Result<Device> decodeGetReply(std::string_view reply);

// decodeGetReply as the reply arrives, line by line: a 10,000-peer reply (~3 MB of text) is never
// held whole, only the peers decoded so far and the line being read (wiped: it may be the private
// key). Any split of the same bytes decodes the same, errors included.
class GetReplyDecoder {
 public:
  // `expected_peers`: a guess (the last reading's count), so that the peer list is allocated once.
  explicit GetReplyDecoder(size_t expected_peers = 0);

  // Takes bytes up to the reply's end, its first blank line; returns how many it took (fewer than
  // given once the end is reached: the rest is not part of the reply).
  size_t feed(std::string_view bytes);
  bool complete() const { return ended_; }

  // The device, or the first error: framing (empty, truncated), then the errno line (must be last;
  // non-zero outranks anything before it), then the first wrong line.
  Result<Device> finish() &&;

 private:
  static constexpr size_t kNoPeer = SIZE_MAX;
  struct PendingErrno {
    size_t line_no;
    std::string value;
  };
  void line(std::string_view text);
  std::optional<Error> content(std::string_view line, size_t line_no);

  SecretString partial_;  // a line split between two feeds
  size_t received_ = 0;
  size_t line_no_ = 0;
  bool ended_ = false;
  std::optional<PendingErrno> pending_errno_;  // the last line read, when it was errno=
  std::optional<Error> error_;                 // the first wrong line

  Device device_;
  std::vector<uint8_t> seen_;  // per peer: the fields already set (a peer listed twice must agree)
  PeerKeyIndex index_;         // to merge a repeated peer
  size_t current_ = kNoPeer;   // the peer section being read
  bool seen_private_ = false, seen_port_ = false, seen_fwmark_ = false;
};

// Decodes the reply to `set=1` ("errno=N\n\n"): success for errno=0, otherwise an Error whose code is
// the (positive) errno and whose message names the cause.
Status decodeSetReply(std::string_view reply);

// "listen port already in use (EADDRINUSE)" for 98, etc.: what a UAPI errno means for a caller.
std::string describeErrno(int err);

}  // namespace nwg::wg::uapi

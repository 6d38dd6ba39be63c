// The text of wireguard-go's UAPI (the cross-platform userspace API of wireguard.com/xplatform):
// pure functions between the device model and `set=1` / `get=1` messages, no sockets.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "wireguard/device.h"

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

// Decodes the reply to `set=1` ("errno=N\n\n"): success for errno=0, otherwise an Error whose code is
// the (positive) errno and whose message names the cause.
Status decodeSetReply(std::string_view reply);

// "listen port already in use (EADDRINUSE)" for 98, etc.: what a UAPI errno means for a caller.
std::string describeErrno(int err);

}  // namespace nwg::wg::uapi

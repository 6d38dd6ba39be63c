// Pure codec of WireGuard's generic netlink messages (linux/wireguard.h): WG_CMD_GET_DEVICE dumps are
// decoded and coalesced (a peer, and its allowed IPs, may be split across several messages), and
// WG_CMD_SET_DEVICE updates are split into messages that each fit a size limit, the way wireguard-tools
// does. Bytes in, bytes out: tested with golden bytes and fuzzed without a kernel.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "netlink/message_builder.h"
#include "netlink/reply.h"
#include "wireguard/device.h"

namespace nwg::wg::genl {

inline constexpr size_t kDefaultSetLimit = 4096;  // what wireguard-tools uses (one page)

// A WG_CMD_GET_DEVICE dump request for `ifname`.
std::vector<uint8_t> getDeviceRequest(uint16_t family, const std::string& ifname);

// The WG_CMD_SET_DEVICE messages for `update`, each at most `limit` bytes, to be sent in order with
// each acknowledged before the next:
// - device attributes (private key, listen port, fwmark, replace-peers flag) only in the first;
// - a peer that does not fit continues in the next message, which repeats its public key and carries
//   only the allowed IPs that did not fit;
// - a peer's flags, preshared key, endpoint and keepalive only in its first chunk; except that
//   update-only is repeated in every chunk, or a continuation would create a peer the first chunk
//   rightly skipped (wireguard-tools sends it only once);
// Fails with EMSGSIZE when `limit` cannot hold one allowed IP of a peer.
Result<std::vector<std::vector<uint8_t>>> setDeviceRequests(uint16_t family, const std::string& ifname,
                                                            const Device& update,
                                                            size_t limit = kDefaultSetLimit);

// Coalesces the messages of one WG_CMD_GET_DEVICE dump into a Device. Every attribute is validated
// before use; a peer's chunks are joined by public key.
class DeviceDumpDecoder {
 public:
  explicit DeviceDumpDecoder(uint16_t family) : family_(family) {}
  Status add(const netlink::Message& message);
  // The device read back: absent preshared key or keepalive become WireGuard's defaults (zero key,
  // 0); a listen port of 0 (no UDP socket: the device is down and was never given a port) is absent.
  Result<Device> finish() &&;

 private:
  Status addPeer(netlink::Bytes bytes);

  uint16_t family_;
  size_t messages_ = 0;
  std::string ifname_;
  Device device_;
  std::map<Key, size_t> peer_index_;
};

}  // namespace nwg::wg::genl

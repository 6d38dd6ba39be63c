// The one WireGuard device model, shared by the kernel (generic netlink) and userspace (UAPI)
// backends and by the fake used in unit tests. As in wireguard-tools' containers.h, the same types
// describe a device read back from WireGuard (every field filled) and an update sent to it (absent
// optional fields mean "unchanged"; flags say what to replace or remove). The model knows nothing
// about either transport.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/ip.h"
#include "keys/key.h"

namespace nwg::wg {

// Counters WireGuard reports for a peer; read-only (ignored in updates).
struct PeerStats {
  int64_t last_handshake_sec = 0;
  int64_t last_handshake_nsec = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  bool operator==(const PeerStats&) const = default;
};

// Field order is for the diff of 10,000-peer devices (diff.h): the key, the allowed IPs and the
// update flags share the first 64 bytes, so comparing an unchanged peer whose wanted state names
// no preshared key, endpoint or keepalive reads one cache line of it (and its allowed IPs).
struct Peer {
  Key public_key;
  // In an update: prefixes to add, or the complete set when replace_allowed_ips is set.
  std::vector<IpPrefix> allowed_ips;

  // Update flags.
  bool remove = false;               // delete this peer (WGPEER_F_REMOVE_ME, UAPI remove=true)
  bool update_only = false;          // change it only if it exists (WGPEER_F_UPDATE_ONLY)
  bool replace_allowed_ips = false;  // allowed_ips is the whole new set (WGPEER_F_REPLACE_ALLOWEDIPS)

  // Absent = unchanged in an update; always present when read back (an all-zero preshared key
  // means none; keepalive 0 means off). The endpoint is absent when read back if the peer has none.
  std::optional<uint16_t> persistent_keepalive;
  std::optional<Endpoint> endpoint;
  std::optional<Key> preshared_key;

  PeerStats stats;

  bool operator==(const Peer&) const = default;
};

struct Device {
  // Absent = unchanged in an update. Read back: private_key absent if none was ever set;
  // listen_port absent if the device has no UDP socket (wireguard-go after EADDRINUSE).
  std::optional<Key> private_key;
  std::optional<uint16_t> listen_port;
  std::optional<uint32_t> fwmark;

  // Read-only: the device's public key (derived from private_key when the transport omits it).
  std::optional<Key> public_key;

  bool replace_peers = false;  // peers is the complete new set (WGDEVICE_F_REPLACE_PEERS)
  std::vector<Peer> peers;

  bool operator==(const Device&) const = default;
};

}  // namespace nwg::wg

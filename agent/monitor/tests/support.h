// Realized hubs and readings for the monitor's tests.
#pragma once

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include "monitor/peer_reading.h"

namespace nwg::monitor::testing {

inline Key keyOf(int n) {
  std::array<uint8_t, 32> bytes{};
  bytes[0] = static_cast<uint8_t>(n);
  bytes[1] = static_cast<uint8_t>(n >> 8);
  bytes[31] = 0x40;
  return Key(bytes);
}

inline std::string spokeId(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "5b0e0000-0000-0000-0000-%012d", n);
  return buf;
}

// Hub IDs whose first 11 characters (the device name) differ from hub to hub.
inline std::string hubId(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "c0ffee%02d-0000-0000-0000-%012d", n % 100, n);
  return buf;
}

inline std::shared_ptr<const reconcile::RealizedHub> hubWith(int hub, int first_spoke, int spokes,
                                                             const std::string& digest = "d1") {
  auto h = std::make_shared<reconcile::RealizedHub>();
  h->port_id = hubId(hub);
  h->project_id = "9a8b7c6d5e4f";
  h->network_id = "5f1c0000-0000-0000-0000-000000000001";
  h->device = {"tun-9a8b7c6d5e4f", "wg-" + h->port_id.substr(0, 11)};
  h->digest = digest;
  std::vector<reconcile::RealizedSpoke> list;
  for (int i = first_spoke; i < first_spoke + spokes; ++i) {
    auto ip = IpPrefix::parse(str("10.0.", i / 250, ".", 2 + i % 250, "/32"));
    list.push_back({spokeId(i), keyOf(i), {*ip}});
  }
  h->spokes = reconcile::RealizedSpokes::from(std::move(list));
  return h;
}

// A new entry for `hub` whose spoke `i` was changed by `edit` (entries are immutable, as published).
template <typename Edit>
std::shared_ptr<const reconcile::RealizedHub> withSpokeEdited(const reconcile::RealizedHub& hub, size_t i, Edit edit) {
  auto h = std::make_shared<reconcile::RealizedHub>(hub);
  std::vector<reconcile::RealizedSpoke> list(hub.spokes.begin(), hub.spokes.end());
  edit(list.at(i));
  h->spokes = reconcile::RealizedSpokes::from(std::move(list));
  return h;
}

inline wg::PeerStats handshakeAt(int64_t unix_seconds, uint64_t rx = 0, uint64_t tx = 0) {
  wg::PeerStats s;
  s.last_handshake_sec = unix_seconds;
  s.rx_bytes = rx;
  s.tx_bytes = tx;
  return s;
}

}  // namespace nwg::monitor::testing

// Device-state diff: current × wanted → the smallest update (see diff.h for the rules).
#include "wireguard/diff.h"

#include <algorithm>

#include "wireguard/key_hash.h"

namespace nwg::wg {
namespace {

// A peer as sent when it is created or when the whole peer list is rewritten.
Peer fullPeer(const Peer& wanted, bool replace_allowed_ips) {
  Peer out;
  out.public_key = wanted.public_key;
  if (wanted.preshared_key && !wanted.preshared_key->isZero()) out.preshared_key = wanted.preshared_key;
  out.endpoint = wanted.endpoint;
  if (wanted.persistent_keepalive && *wanted.persistent_keepalive != 0) {
    out.persistent_keepalive = wanted.persistent_keepalive;
  }
  out.allowed_ips = canonicalAllowedIps(wanted.allowed_ips);
  out.replace_allowed_ips = replace_allowed_ips;
  return out;
}

// Allowed-IP sets equal as WireGuard stores them. The common case (same prefixes in the same order,
// already masked, as read back) costs no allocation: the diff of 10,000 unchanged peers must be cheap.
bool sameAllowedIps(const std::vector<IpPrefix>& current, const std::vector<IpPrefix>& wanted) {
  if (current.size() == wanted.size()) {
    bool same = true;
    for (size_t i = 0; i < current.size() && same; ++i) {
      same = current[i] == wanted[i] || current[i].masked() == wanted[i].masked();
    }
    if (same) return true;
  }
  return canonicalAllowedIps(current) == canonicalAllowedIps(wanted);
}

// Only the fields of `wanted` that differ from `current`; nullopt when nothing differs.
std::optional<Peer> changedPeer(const Peer& current, const Peer& wanted) {
  // Read-back peers always carry a preshared key and keepalive; a missing one counts as unknown.
  bool psk = wanted.preshared_key && current.preshared_key != wanted.preshared_key;
  bool keepalive = wanted.persistent_keepalive && current.persistent_keepalive != wanted.persistent_keepalive;
  bool endpoint = wanted.endpoint && current.endpoint != wanted.endpoint;
  bool ips = !sameAllowedIps(current.allowed_ips, wanted.allowed_ips);
  if (!psk && !keepalive && !endpoint && !ips) return std::nullopt;
  Peer out;
  out.public_key = wanted.public_key;
  if (psk) out.preshared_key = wanted.preshared_key;
  if (keepalive) out.persistent_keepalive = wanted.persistent_keepalive;
  if (endpoint) out.endpoint = wanted.endpoint;
  if (ips) {
    out.replace_allowed_ips = true;
    out.allowed_ips = canonicalAllowedIps(wanted.allowed_ips);
  }
  return out;
}

// An open-addressing table from public key to the peer's index in `current` and in `wanted`, sized
// once: the diff of two 10,000-peer devices must cost a fraction of a millisecond, which ordered maps
// (an allocation and 32-byte compares per node) do not allow.
class PeerIndex {
 public:
  // 16 bytes, so the table for two 10,000-peer devices (32,768 slots) stays at 512 KiB.
  struct Slot {
    uint32_t tag = 0;  // high bits of the key's hash; skips most key compares
    int32_t current = -1;
    int32_t wanted = -1;
    int32_t used = 0;
  };

  PeerIndex(const std::vector<Peer>& current, const std::vector<Peer>& wanted)
      : current_(current), wanted_(wanted) {
    size_t size = 16;
    while (size < (current.size() + wanted.size()) * 2) size <<= 1;
    slots_.resize(size);
    mask_ = size - 1;
  }

  // The slot of `key`, claimed for it if new; the caller then sets current or wanted.
  Slot& find(const Key& key) {
    uint64_t h = KeyHash()(key);
    auto tag = static_cast<uint32_t>(h >> 32);
    size_t i = static_cast<size_t>(h) & mask_;
    while (slots_[i].used && (slots_[i].tag != tag || !PublicKeyEqual()(keyOf(slots_[i]), key)))
      i = (i + 1) & mask_;
    if (!slots_[i].used) {
      slots_[i].used = 1;
      slots_[i].tag = tag;
    }
    return slots_[i];
  }

 private:
  const Key& keyOf(const Slot& slot) const {
    return slot.current >= 0 ? current_[static_cast<size_t>(slot.current)].public_key
                             : wanted_[static_cast<size_t>(slot.wanted)].public_key;
  }
  const std::vector<Peer>& current_;
  const std::vector<Peer>& wanted_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace

std::vector<IpPrefix> canonicalAllowedIps(const std::vector<IpPrefix>& prefixes) {
  std::vector<IpPrefix> out;
  out.reserve(prefixes.size());
  for (const IpPrefix& p : prefixes) out.push_back(p.masked());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool isEmptyUpdate(const Device& update) {
  return !update.private_key && !update.listen_port && !update.fwmark && !update.replace_peers &&
         update.peers.empty();
}

Device diff(const Device& current, const Device& wanted) {
  Device update;
  if (wanted.private_key && current.private_key != wanted.private_key) {
    update.private_key = wanted.private_key;
  }
  if (wanted.listen_port && current.listen_port != wanted.listen_port) {
    update.listen_port = wanted.listen_port;
  }
  if (wanted.fwmark && current.fwmark != wanted.fwmark) update.fwmark = wanted.fwmark;

  PeerIndex index(current.peers, wanted.peers);
  std::vector<const PeerIndex::Slot*> current_slots;
  current_slots.reserve(current.peers.size());
  for (size_t i = 0; i < current.peers.size(); ++i) {
    PeerIndex::Slot& slot = index.find(current.peers[i].public_key);
    slot.current = static_cast<int32_t>(i);
    current_slots.push_back(&slot);
  }
  // Wanted peers in first-seen order; a key listed twice keeps its first place and its last entry.
  std::vector<const PeerIndex::Slot*> wanted_order;
  wanted_order.reserve(wanted.peers.size());
  for (size_t i = 0; i < wanted.peers.size(); ++i) {
    PeerIndex::Slot& slot = index.find(wanted.peers[i].public_key);
    if (slot.wanted < 0) wanted_order.push_back(&slot);
    slot.wanted = static_cast<int32_t>(i);
  }
  auto wantedPeer = [&](const PeerIndex::Slot* slot) -> const Peer& {
    return wanted.peers[static_cast<size_t>(slot->wanted)];
  };

  if (wanted.replace_peers) {
    update.replace_peers = true;
    update.peers.reserve(wanted_order.size());
    for (const PeerIndex::Slot* slot : wanted_order) {
      update.peers.push_back(fullPeer(wantedPeer(slot), /*replace_allowed_ips=*/true));
    }
    return update;
  }

  // Removals first: they free allowed IPs and never depend on the other changes.
  for (size_t i = 0; i < current.peers.size(); ++i) {
    if (current_slots[i]->wanted >= 0) continue;
    Peer removal;
    removal.public_key = current.peers[i].public_key;
    removal.remove = true;
    update.peers.push_back(std::move(removal));
  }
  for (const PeerIndex::Slot* slot : wanted_order) {
    if (slot->current < 0) {
      update.peers.push_back(fullPeer(wantedPeer(slot), /*replace_allowed_ips=*/false));
    } else if (auto changed =
                   changedPeer(current.peers[static_cast<size_t>(slot->current)], wantedPeer(slot))) {
      update.peers.push_back(std::move(*changed));
    }
  }
  return update;
}

}  // namespace nwg::wg

// Device-state diff: current × wanted → the smallest update (see diff.h for the rules).
#include "wireguard/diff.h"

#include <algorithm>
#include <map>

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

// Only the fields of `wanted` that differ from `current`; nullopt when nothing differs.
std::optional<Peer> changedPeer(const Peer& current, const Peer& wanted) {
  Peer out;
  out.public_key = wanted.public_key;
  bool changed = false;
  // Read-back peers always carry a preshared key and keepalive; treat a missing one as unknown.
  if (wanted.preshared_key && current.preshared_key != wanted.preshared_key) {
    out.preshared_key = wanted.preshared_key;
    changed = true;
  }
  if (wanted.persistent_keepalive && current.persistent_keepalive != wanted.persistent_keepalive) {
    out.persistent_keepalive = wanted.persistent_keepalive;
    changed = true;
  }
  if (wanted.endpoint && current.endpoint != wanted.endpoint) {
    out.endpoint = wanted.endpoint;
    changed = true;
  }
  std::vector<IpPrefix> wanted_ips = canonicalAllowedIps(wanted.allowed_ips);
  if (canonicalAllowedIps(current.allowed_ips) != wanted_ips) {
    out.replace_allowed_ips = true;
    out.allowed_ips = std::move(wanted_ips);
    changed = true;
  }
  if (!changed) return std::nullopt;
  return out;
}

// The wanted peers by key, last entry winning, in first-seen order (so the update is deterministic).
std::vector<const Peer*> uniqueByKey(const std::vector<Peer>& peers) {
  std::map<Key, size_t> index;
  std::vector<const Peer*> out;
  out.reserve(peers.size());
  for (const Peer& p : peers) {
    auto [it, inserted] = index.emplace(p.public_key, out.size());
    if (inserted) {
      out.push_back(&p);
    } else {
      out[it->second] = &p;
    }
  }
  return out;
}

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

  std::vector<const Peer*> wanted_peers = uniqueByKey(wanted.peers);
  if (wanted.replace_peers) {
    update.replace_peers = true;
    update.peers.reserve(wanted_peers.size());
    for (const Peer* p : wanted_peers) update.peers.push_back(fullPeer(*p, /*replace_allowed_ips=*/true));
    return update;
  }

  std::map<Key, const Peer*> current_by_key;
  for (const Peer& p : current.peers) current_by_key.emplace(p.public_key, &p);
  std::map<Key, const Peer*> wanted_by_key;
  for (const Peer* p : wanted_peers) wanted_by_key.emplace(p->public_key, p);

  // Removals first: they free allowed IPs and never depend on the other changes.
  for (const Peer& p : current.peers) {
    if (wanted_by_key.count(p.public_key)) continue;
    Peer removal;
    removal.public_key = p.public_key;
    removal.remove = true;
    update.peers.push_back(std::move(removal));
  }
  for (const Peer* p : wanted_peers) {
    auto it = current_by_key.find(p->public_key);
    if (it == current_by_key.end()) {
      update.peers.push_back(fullPeer(*p, /*replace_allowed_ips=*/false));
    } else if (auto changed = changedPeer(*it->second, *p)) {
      update.peers.push_back(std::move(*changed));
    }
  }
  return update;
}

}  // namespace nwg::wg

// Device-state diff: current × wanted → the smallest update (see diff.h for the rules).
#include "wireguard/diff.h"

#include <algorithm>
#include <cstring>

#include "wireguard/peer_key_index.h"

namespace nwg::wg {
namespace {

// True when `prefixes` are already as WireGuard stores them (masked, sorted, no duplicates): then
// comparing and sending them needs no canonical copy.
bool isCanonical(const std::vector<IpPrefix>& prefixes) {
  for (size_t i = 0; i < prefixes.size(); ++i) {
    if (!(prefixes[i].masked() == prefixes[i])) return false;
    if (i > 0 && !(prefixes[i - 1] < prefixes[i])) return false;
  }
  return true;
}

// IpPrefix::operator== without its library calls: family, length and the 16 address bytes (unused
// bytes of an IPv4 address are zero, as operator== compares them too).
inline bool samePrefix(const IpPrefix& a, const IpPrefix& b) {
  if (a.length() != b.length() || a.address().family() != b.address().family()) return false;
  uint64_t a0, a1, b0, b1;
  std::memcpy(&a0, a.address().data(), 8);
  std::memcpy(&a1, a.address().data() + 8, 8);
  std::memcpy(&b0, b.address().data(), 8);
  std::memcpy(&b1, b.address().data() + 8, 8);
  return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

// Allowed-IP sets equal as WireGuard stores them. The common case (same prefixes in the same order,
// already masked, as read back) costs no allocation: the diff of 10,000 unchanged peers must be cheap.
bool sameAllowedIps(const std::vector<IpPrefix>& current, const std::vector<IpPrefix>& wanted) {
  if (current.size() == wanted.size()) {
    bool same = true;
    for (size_t i = 0; i < current.size() && same; ++i) {
      same = samePrefix(current[i], wanted[i]) || current[i].masked() == wanted[i].masked();
    }
    if (same) return true;
  }
  return canonicalAllowedIps(current) == canonicalAllowedIps(wanted);
}

std::vector<IpPrefix> sentAllowedIps(const std::vector<IpPrefix>& wanted) {
  return isCanonical(wanted) ? wanted : canonicalAllowedIps(wanted);
}

// A peer as sent when it is created or when the whole peer list is rewritten.
Peer fullPeer(const Peer& wanted, bool replace_allowed_ips) {
  Peer out;
  out.public_key = wanted.public_key;
  if (wanted.preshared_key && !wanted.preshared_key->isZero()) out.preshared_key = wanted.preshared_key;
  out.endpoint = wanted.endpoint;
  if (wanted.persistent_keepalive && *wanted.persistent_keepalive != 0) {
    out.persistent_keepalive = wanted.persistent_keepalive;
  }
  out.allowed_ips = sentAllowedIps(wanted.allowed_ips);
  out.replace_allowed_ips = replace_allowed_ips;
  return out;
}

// Only the fields of `wanted` that differ from `current`; nullopt when nothing differs.
std::optional<Peer> changedPeer(const Peer& current, const Peer& wanted) {
  // Read-back peers always carry a preshared key and keepalive; a missing one counts as unknown.
  // Preshared keys are secrets: compared in constant time (Key::operator==).
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
    out.allowed_ips = sentAllowedIps(wanted.allowed_ips);
  }
  return out;
}

// How far ahead the matching loop prefetches: enough to cover a cache miss with the work of the
// peers in between, little enough that the prefetched lines are still there when used.
constexpr size_t kAhead = 8;

inline void prefetch(const void* p) {
  __builtin_prefetch(p);
}

// Matches the wanted peers with the current ones and collects what differs. For two 10,000-peer
// devices that differ by one peer, this is the whole cost of a diff, and much of it is memory
// latency: the current peers are visited in wanted order, unrelated to theirs (wireguard-go lists
// peers in hash-map order), and 10,000 peers outgrow the caches. So the one pass over the wanted
// peers touches memory ahead of its use: the index slot of a key 3 * kAhead peers ahead, the current
// peer it likely names 2 * kAhead ahead, that peer's allowed IPs kAhead ahead; each peer is then
// compared in full while it is in cache.
class PeerMatcher {
 public:
  PeerMatcher(const std::vector<Peer>& current, const std::vector<Peer>& wanted)
      // wanted_hashes_ is filled as the matching pass goes, a few peers ahead: one pass over the
      // wanted peers, not two. (Sized here, not by resize(): GCC 12 at -O3 sees resize()'s append
      // path on the empty vector's null begin and warns -Wnull-dereference.)
      : current_(current), wanted_(wanted), wanted_hashes_(wanted.size()) {}

  // The peers of `wanted` that are new or changed (only what changed), in wanted order; a key
  // listed twice in `wanted` keeps its first place with its last entry.
  std::vector<Peer> changes() {
    indexCurrent();
    if (auto fast = match(/*effective=*/{}); fast) return std::move(*fast);
    // A key listed twice (the fast pass stops at the first repeat): resolve repeats first.
    return std::move(*match(lastEntries()));
  }

  // The current peers no wanted peer matched (valid after changes()).
  std::vector<Peer> removals() const {
    std::vector<Peer> out;
    for (size_t c = 0; c < current_.size(); ++c) {
      if (state_[c] != kUnmatched) continue;
      Peer removal;
      removal.public_key = current_[c].public_key;
      removal.remove = true;
      out.push_back(std::move(removal));
    }
    return out;
  }

  // For a full rewrite: each wanted key once, at its first place with its last entry (the current
  // peers play no part).
  std::vector<const Peer*> distinctWanted() {
    const std::vector<uint32_t> effective = lastEntries();
    std::vector<const Peer*> out;
    out.reserve(wanted_.size());
    for (uint32_t w : effective) {
      if (w != kSkip) out.push_back(&wanted_[w]);
    }
    return out;
  }

 private:
  static constexpr uint8_t kUnmatched = 0;
  static constexpr uint8_t kMatched = 1;
  static constexpr uint8_t kRepeat = 2;  // a key listed twice in `current`: its first entry counts
  static constexpr uint32_t kSkip = UINT32_MAX;

  void hashWanted(size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) wanted_hashes_[i] = PeerKeyIndex::hashOf(wanted_[i].public_key);
  }

  void indexCurrent() {
    const size_t n = current_.size();
    index_.reset(n);
    state_.assign(n, kUnmatched);
    std::vector<uint32_t> hashes(n);
    for (size_t i = 0; i < n; ++i) hashes[i] = PeerKeyIndex::hashOf(current_[i].public_key);
    auto keyAt = [this](uint32_t c) -> const Key& { return current_[c].public_key; };
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) prefetch(index_.slotFor(hashes[i + kAhead]));
      if (index_.insert(current_[i].public_key, hashes[i], static_cast<uint32_t>(i), keyAt) !=
          PeerKeyIndex::kAbsent) {
        state_[i] = kRepeat;  // never so when read back
      }
    }
  }

  // For each wanted entry: the entry that stands for its key (the last one) at the key's first
  // place, kSkip at its later places.
  std::vector<uint32_t> lastEntries() {
    hashWanted(0, wanted_.size());
    std::vector<uint32_t> effective(wanted_.size());
    PeerKeyIndex seen(wanted_.size());
    auto keyAt = [this](uint32_t w) -> const Key& { return wanted_[w].public_key; };
    for (size_t i = 0; i < wanted_.size(); ++i) {
      const auto w = static_cast<uint32_t>(i);
      effective[i] = w;
      const uint32_t first = seen.insert(wanted_[i].public_key, wanted_hashes_[i], w, keyAt);
      if (first != PeerKeyIndex::kAbsent) {
        effective[first] = w;
        effective[i] = kSkip;
      }
    }
    return effective;
  }

  // One pass over the wanted peers. With `effective` empty, each entry stands for itself and the
  // pass gives up (nullopt) at the first key seen twice; otherwise `effective` says which entry
  // stands for each key (lastEntries()).
  std::optional<std::vector<Peer>> match(const std::vector<uint32_t>& effective) {
    for (uint8_t& s : state_) s = s == kMatched ? kUnmatched : s;
    const size_t n = wanted_.size();
    std::vector<Peer> out;
    PeerKeyIndex fresh;  // new keys (not in current), to see a new key listed twice
    std::vector<uint32_t> fresh_entries;
    auto currentKeyAt = [this](uint32_t c) -> const Key& { return current_[c].public_key; };
    auto freshKeyAt = [&](uint32_t k) -> const Key& { return wanted_[fresh_entries[k]].public_key; };
    hashWanted(0, std::min(n, 3 * kAhead));
    for (size_t i = 0; i < n; ++i) {
      if (i + 3 * kAhead < n) {
        hashWanted(i + 3 * kAhead, i + 3 * kAhead + 1);
        prefetch(index_.slotFor(wanted_hashes_[i + 3 * kAhead]));
      }
      if (i + 2 * kAhead < n) {
        const uint32_t likely = index_.likelyPosition(wanted_hashes_[i + 2 * kAhead]);
        if (likely != PeerKeyIndex::kAbsent) {
          prefetch(&current_[likely]);
          prefetch(reinterpret_cast<const char*>(&current_[likely]) + 64);
        }
      }
      if (i + kAhead < n) {
        const uint32_t likely = index_.likelyPosition(wanted_hashes_[i + kAhead]);
        if (likely != PeerKeyIndex::kAbsent) prefetch(current_[likely].allowed_ips.data());
        prefetch(wanted_[i + kAhead].allowed_ips.data());
      }
      const uint32_t w = effective.empty() ? static_cast<uint32_t>(i) : effective[i];
      if (w == kSkip) continue;
      const Peer& want = wanted_[w];
      const uint32_t c = index_.find(wanted_[i].public_key, wanted_hashes_[i], currentKeyAt);
      if (c != PeerKeyIndex::kAbsent) {
        if (state_[c] == kMatched) return std::nullopt;  // listed twice (only without `effective`)
        state_[c] = kMatched;
        if (auto changed = changedPeer(current_[c], want)) out.push_back(std::move(*changed));
        continue;
      }
      if (effective.empty()) {
        const auto k = static_cast<uint32_t>(fresh_entries.size());
        fresh_entries.push_back(w);
        if (fresh.insert(want.public_key, wanted_hashes_[i], k, freshKeyAt) != PeerKeyIndex::kAbsent) {
          return std::nullopt;
        }
      }
      out.push_back(fullPeer(want, /*replace_allowed_ips=*/false));
    }
    return out;
  }

  const std::vector<Peer>& current_;
  const std::vector<Peer>& wanted_;
  PeerKeyIndex index_;
  std::vector<uint32_t> wanted_hashes_;
  std::vector<uint8_t> state_;  // per current peer: kUnmatched, kMatched or kRepeat
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
  // The private key is a secret: Key::operator== compares it in constant time.
  if (wanted.private_key && current.private_key != wanted.private_key) {
    update.private_key = wanted.private_key;
  }
  if (wanted.listen_port && current.listen_port != wanted.listen_port) {
    update.listen_port = wanted.listen_port;
  }
  if (wanted.fwmark && current.fwmark != wanted.fwmark) update.fwmark = wanted.fwmark;

  PeerMatcher matcher(current.peers, wanted.peers);
  if (wanted.replace_peers) {
    update.replace_peers = true;
    const std::vector<const Peer*> peers = matcher.distinctWanted();
    update.peers.reserve(peers.size());
    for (const Peer* p : peers) update.peers.push_back(fullPeer(*p, /*replace_allowed_ips=*/true));
    return update;
  }
  std::vector<Peer> changes = matcher.changes();
  // Removals first: they free allowed IPs and never depend on the other changes.
  update.peers = matcher.removals();
  update.peers.reserve(update.peers.size() + changes.size());
  for (Peer& p : changes) update.peers.push_back(std::move(p));
  return update;
}

}  // namespace nwg::wg

// UAPI text codec: device model ↔ `set=1` / `get=1` text (see uapi_codec.h).
#include "wireguard/uapi/uapi_codec.h"

#include <charconv>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "wireguard/key_hash.h"

namespace nwg::wg::uapi {
namespace {

// Strict unsigned decimal as wireguard-go prints it (%d): no sign, no leading zeros, no overflow.
template <typename T>
bool parseUnsigned(std::string_view text, T max, T& out) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return false;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v > static_cast<uint64_t>(max)) return false;
  out = static_cast<T>(v);
  return true;
}

// Values are quoted in errors only when they are not secret, and never at full length.
std::string quoted(std::string_view value) {
  constexpr size_t kMax = 64;
  if (value.size() > kMax) return str("'", value.substr(0, kMax), "...'");
  return str("'", value, "'");
}

Error lineError(size_t line_no, std::string_view key, std::string_view why) {
  return fail("UAPI reply line ", line_no, " (", key, "): ", why);
}

// Which read-back fields a peer section has already set, to reject conflicting repeats.
enum PeerField : unsigned {
  kPsk = 1u << 0,
  kEndpoint = 1u << 2,
  kHandshakeSec = 1u << 3,
  kHandshakeNsec = 1u << 4,
  kTx = 1u << 5,
  kRx = 1u << 6,
  kKeepalive = 1u << 7,
};

struct PeerState {
  Peer peer;
  unsigned seen = 0;
};

// Sets a scalar field once; a repeat (a peer listed again) must agree with the first value.
template <typename T, typename U>
bool setOnce(PeerState& state, PeerField field, T& slot, const U& value) {
  if (state.seen & field) return slot == value;
  slot = value;
  state.seen |= field;
  return true;
}

Result<int> parseErrnoValue(std::string_view value) {
  bool negative = !value.empty() && value[0] == '-';
  std::string_view digits = negative ? value.substr(1) : value;
  int magnitude = 0;
  // wireguard-go sends 0 or a negated errno; anything else is not a reply we understand.
  if (!parseUnsigned<int>(digits, 4095, magnitude) || (negative == (magnitude == 0))) {
    return fail("invalid errno value ", quoted(value));
  }
  return magnitude;
}

Error errnoError(int err) {
  return Error(str("wireguard-go answered errno=-", err, ": ", describeErrno(err)), err);
}

// Splits `reply` into lines, requiring the final blank line and nothing after it.
Result<std::vector<std::string_view>> replyLines(std::string_view reply) {
  if (reply.empty()) return fail("empty UAPI reply (connection closed without an answer)");
  size_t end = reply.find("\n\n");
  if (reply.substr(0, 1) == "\n") end = 0;  // a reply that is only the blank line
  if (end == std::string_view::npos) return fail("truncated UAPI reply (no terminating blank line)");
  size_t stop = end == 0 ? 1 : end + 2;
  if (stop != reply.size()) return fail("UAPI reply has ", reply.size() - stop, " bytes after its end");
  std::vector<std::string_view> lines;
  if (end == 0) return lines;
  return split(reply.substr(0, end), '\n');
}

}  // namespace

std::string describeErrno(int err) {
  switch (err) {
    case EINVAL:
      return "invalid configuration value (EINVAL)";
    case EPROTO:
      return "malformed UAPI request (EPROTO)";
    case EADDRINUSE:
      return "listen port already in use (EADDRINUSE)";
    case EIO:
      return "I/O error inside wireguard-go (EIO)";
    case 55:
      return "unknown UAPI error";  // wireguard-go's ipc.IpcErrorUnknown
    default:
      return std::strerror(err);
  }
}

std::string encodeGetRequest() {
  return "get=1\n\n";
}

std::string encodeSetRequest(const Device& update) {
  std::string out;
  // ~200 bytes per typical peer (key, one allowed IP, flags) keeps re-allocations rare.
  out.reserve(64 + update.peers.size() * 200);
  auto line = [&out](std::string_view key, std::string_view value) {
    out.append(key);
    out.push_back('=');
    out.append(value);
    out.push_back('\n');
  };
  line("set", "1");
  if (update.private_key) line("private_key", update.private_key->toHex());
  if (update.listen_port) line("listen_port", std::to_string(*update.listen_port));
  if (update.fwmark) line("fwmark", std::to_string(*update.fwmark));
  if (update.replace_peers) line("replace_peers", "true");
  for (const Peer& p : update.peers) {
    line("public_key", p.public_key.toHex());
    if (p.remove) {
      line("remove", "true");
      continue;
    }
    // update_only must directly follow public_key: wireguard-go creates the peer on public_key and
    // undoes the creation on update_only.
    if (p.update_only) line("update_only", "true");
    if (p.preshared_key) line("preshared_key", p.preshared_key->toHex());
    if (p.endpoint) line("endpoint", p.endpoint->toString());
    if (p.persistent_keepalive)
      line("persistent_keepalive_interval", std::to_string(*p.persistent_keepalive));
    if (p.replace_allowed_ips) line("replace_allowed_ips", "true");
    for (const IpPrefix& ip : p.allowed_ips) line("allowed_ip", ip.toString());
    line("protocol_version", "1");
  }
  out.push_back('\n');
  return out;
}

Status decodeSetReply(std::string_view reply) {
  NWG_ASSIGN_OR_RETURN(auto lines, replyLines(reply));
  if (lines.size() != 1 || !startsWith(lines[0], "errno=")) {
    return fail("unexpected UAPI reply to set (want a single errno line, got ", lines.size(), " lines)");
  }
  NWG_ASSIGN_OR_RETURN(int err, parseErrnoValue(lines[0].substr(6)));
  if (err != 0) return errnoError(err);
  return okStatus();
}

Result<Device> decodeGetReply(std::string_view reply) {
  NWG_ASSIGN_OR_RETURN(auto lines, replyLines(reply));
  if (lines.empty() || !startsWith(lines.back(), "errno=")) {
    return fail("UAPI get reply does not end with an errno line");
  }
  NWG_ASSIGN_OR_RETURN(int err, parseErrnoValue(lines.back().substr(6)));
  if (err != 0) return errnoError(err);
  lines.pop_back();

  Device device;
  size_t peer_lines = 0;
  for (std::string_view line : lines) peer_lines += startsWith(line, "public_key=") ? 1u : 0u;
  std::vector<PeerState> peers;
  peers.reserve(peer_lines);
  std::unordered_map<Key, size_t, KeyHash, PublicKeyEqual> peer_index;  // to merge a repeated peer
  peer_index.reserve(peer_lines);
  PeerState* peer = nullptr;  // the section being read; nullptr while still in the device section
  bool seen_private = false, seen_port = false, seen_fwmark = false;

  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line_no = i + 1;
    std::string_view line = lines[i];
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return fail("UAPI reply line ", line_no, " is not key=value");
    }
    std::string_view key = line.substr(0, eq);
    std::string_view value = line.substr(eq + 1);

    if (key == "private_key" || key == "listen_port" || key == "fwmark") {
      if (peer) return lineError(line_no, key, "device field after the first peer");
      if (key == "private_key") {
        if (seen_private) return lineError(line_no, key, "repeated");
        seen_private = true;
        auto k = Key::fromHex(value);
        if (!k) return lineError(line_no, key, "not a 64-digit hex key");  // never echo a private key
        if (!k->isZero()) device.private_key = *k;
      } else if (key == "listen_port") {
        uint16_t port = 0;
        if (seen_port) return lineError(line_no, key, "repeated");
        seen_port = true;
        if (!parseUnsigned<uint16_t>(value, 65535, port))
          return lineError(line_no, key, str("invalid port ", quoted(value)));
        device.listen_port = port;
      } else {
        uint32_t mark = 0;
        if (seen_fwmark) return lineError(line_no, key, "repeated");
        seen_fwmark = true;
        if (!parseUnsigned<uint32_t>(value, std::numeric_limits<uint32_t>::max(), mark)) {
          return lineError(line_no, key, str("invalid fwmark ", quoted(value)));
        }
        device.fwmark = mark;
      }
      continue;
    }
    if (key == "errno") return lineError(line_no, key, "errno before the end of the reply");
    if (key == "public_key") {
      auto k = Key::fromHex(value);
      if (!k) return lineError(line_no, key, str("not a 64-digit hex key: ", quoted(value)));
      auto [it, inserted] = peer_index.emplace(*k, peers.size());
      if (inserted) {
        peers.emplace_back();
        peers.back().peer.public_key = *k;
      }
      peer = &peers[it->second];
      continue;
    }

    bool is_peer_key = key == "preshared_key" || key == "protocol_version" || key == "endpoint" ||
                       key == "last_handshake_time_sec" || key == "last_handshake_time_nsec" ||
                       key == "tx_bytes" || key == "rx_bytes" || key == "persistent_keepalive_interval" ||
                       key == "allowed_ip";
    if (!is_peer_key) continue;  // unknown key: a newer wireguard-go; ignore
    if (!peer) return lineError(line_no, key, "peer field before any public_key");

    bool ok = true;
    if (key == "preshared_key") {
      auto k = Key::fromHex(value);
      if (!k) return lineError(line_no, key, "not a 64-digit hex key");  // secret: never echoed
      ok = setOnce(*peer, kPsk, peer->peer.preshared_key, std::optional<Key>(*k));
    } else if (key == "protocol_version") {
      uint32_t version = 0;
      if (!parseUnsigned<uint32_t>(value, 1000, version) || version != 1) {
        return lineError(line_no, key, str("unsupported protocol version ", quoted(value)));
      }
    } else if (key == "endpoint") {
      auto e = Endpoint::parse(value);
      if (!e) return lineError(line_no, key, e.error().message);
      ok = setOnce(*peer, kEndpoint, peer->peer.endpoint, std::optional<Endpoint>(*e));
    } else if (key == "last_handshake_time_sec") {
      int64_t v = 0;
      if (!parseUnsigned<int64_t>(value, std::numeric_limits<int64_t>::max(), v)) {
        return lineError(line_no, key, str("invalid number ", quoted(value)));
      }
      ok = setOnce(*peer, kHandshakeSec, peer->peer.stats.last_handshake_sec, v);
    } else if (key == "last_handshake_time_nsec") {
      int64_t v = 0;
      if (!parseUnsigned<int64_t>(value, 999'999'999, v)) {
        return lineError(line_no, key, str("invalid nanoseconds ", quoted(value)));
      }
      ok = setOnce(*peer, kHandshakeNsec, peer->peer.stats.last_handshake_nsec, v);
    } else if (key == "tx_bytes" || key == "rx_bytes") {
      uint64_t v = 0;
      if (!parseUnsigned<uint64_t>(value, std::numeric_limits<uint64_t>::max(), v)) {
        return lineError(line_no, key, str("invalid counter ", quoted(value)));
      }
      ok = key == "tx_bytes" ? setOnce(*peer, kTx, peer->peer.stats.tx_bytes, v)
                             : setOnce(*peer, kRx, peer->peer.stats.rx_bytes, v);
    } else if (key == "persistent_keepalive_interval") {
      uint16_t v = 0;
      if (!parseUnsigned<uint16_t>(value, 65535, v)) {
        return lineError(line_no, key, str("invalid interval ", quoted(value)));
      }
      ok = setOnce(*peer, kKeepalive, peer->peer.persistent_keepalive, std::optional<uint16_t>(v));
    } else {  // allowed_ip
      auto p = IpPrefix::parse(value);
      if (!p) return lineError(line_no, key, p.error().message);
      peer->peer.allowed_ips.push_back(*p);
    }
    if (!ok) {
      return lineError(line_no, key,
                       str("conflicts with an earlier value for peer ", peer->peer.public_key.toBase64()));
    }
  }

  if (!device.fwmark) device.fwmark = 0;
  if (device.private_key) device.public_key = publicKeyOf(*device.private_key);
  device.peers.reserve(peers.size());
  for (PeerState& s : peers) {
    if (!s.peer.preshared_key) s.peer.preshared_key = Key();
    if (!s.peer.persistent_keepalive) s.peer.persistent_keepalive = 0;
    device.peers.push_back(std::move(s.peer));
  }
  return device;
}

}  // namespace nwg::wg::uapi

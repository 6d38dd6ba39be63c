// UAPI text codec: device model ↔ `set=1` / `get=1` text (see uapi_codec.h).
#include "wireguard/uapi/uapi_codec.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

#include "wireguard/peer_key_index.h"

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

// "10.0.0.1/32" as IpPrefix::toString() writes it, without its string stream: a full set request
// has one per peer.
void appendPrefix(std::string& out, const IpPrefix& prefix) {
  char buf[INET6_ADDRSTRLEN + 8];
  const IpAddress& a = prefix.address();
  if (::inet_ntop(a.isV4() ? AF_INET : AF_INET6, a.data(), buf, INET6_ADDRSTRLEN) == nullptr) {
    out.append(prefix.toString());
    return;
  }
  size_t len = std::strlen(buf);
  buf[len++] = '/';
  auto [end, ec] = std::to_chars(buf + len, buf + sizeof buf, prefix.length());
  (void)ec;  // at most 3 digits: always fits
  out.append(buf, static_cast<size_t>(end - buf));
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

// Sets a scalar field once; a repeat (a peer listed again) must agree with the first value.
template <typename T, typename U>
bool setOnce(uint8_t& seen, PeerField field, T& slot, const U& value) {
  if (seen & field) return slot == value;
  slot = value;
  seen = static_cast<uint8_t>(seen | field);
  return true;
}

// The keys of a get reply.
enum class Field {
  kUnknown,
  kPrivateKey,
  kListenPort,
  kFwmark,
  kErrno,
  kPublicKey,
  kPresharedKey,
  kProtocolVersion,
  kEndpoint,
  kHandshakeSec,
  kHandshakeNsec,
  kTxBytes,
  kRxBytes,
  kKeepalive,
  kAllowedIp,
};

// True when `line` is "<name>=...".
inline bool keyIs(std::string_view line, std::string_view name) {
  return line.size() > name.size() && line[name.size()] == '=' && line.substr(0, name.size()) == name;
}

// The field a line sets, and where its '=' is (npos when it has none). The names wireguard-go sends
// are recognised by their first letter and then compared whole, so no line is searched for its '='.
std::pair<Field, size_t> fieldOf(std::string_view line) {
  if (!line.empty()) {
    switch (line[0]) {
      case 'a':
        if (keyIs(line, "allowed_ip")) return {Field::kAllowedIp, 10};
        break;
      case 'e':
        if (keyIs(line, "endpoint")) return {Field::kEndpoint, 8};
        if (keyIs(line, "errno")) return {Field::kErrno, 5};
        break;
      case 'f':
        if (keyIs(line, "fwmark")) return {Field::kFwmark, 6};
        break;
      case 'l':
        if (keyIs(line, "last_handshake_time_sec")) return {Field::kHandshakeSec, 23};
        if (keyIs(line, "last_handshake_time_nsec")) return {Field::kHandshakeNsec, 24};
        if (keyIs(line, "listen_port")) return {Field::kListenPort, 11};
        break;
      case 'p':
        if (keyIs(line, "public_key")) return {Field::kPublicKey, 10};
        if (keyIs(line, "preshared_key")) return {Field::kPresharedKey, 13};
        if (keyIs(line, "protocol_version")) return {Field::kProtocolVersion, 16};
        if (keyIs(line, "persistent_keepalive_interval")) return {Field::kKeepalive, 29};
        if (keyIs(line, "private_key")) return {Field::kPrivateKey, 11};
        break;
      case 'r':
        if (keyIs(line, "rx_bytes")) return {Field::kRxBytes, 8};
        break;
      case 't':
        if (keyIs(line, "tx_bytes")) return {Field::kTxBytes, 8};
        break;
      default:
        break;
    }
  }
  return {Field::kUnknown, line.find('=')};
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

// The lines of `reply` without the final blank line, requiring that line and nothing after it; ""
// for a reply that is only the blank line.
Result<std::string_view> replyBody(std::string_view reply) {
  if (reply.empty()) return fail("empty UAPI reply (connection closed without an answer)");
  if (reply[0] == '\n') {  // a reply that is only the blank line
    if (reply.size() != 1) return fail("UAPI reply has ", reply.size() - 1, " bytes after its end");
    return std::string_view();
  }
  const size_t end = reply.find("\n\n");
  if (end == std::string_view::npos) return fail("truncated UAPI reply (no terminating blank line)");
  if (end + 2 != reply.size()) return fail("UAPI reply has ", reply.size() - end - 2, " bytes after its end");
  return reply.substr(0, end);
}

// Splits `reply` into lines, requiring the final blank line and nothing after it.
Result<std::vector<std::string_view>> replyLines(std::string_view reply) {
  NWG_ASSIGN_OR_RETURN(std::string_view body, replyBody(reply));
  if (body.empty()) return std::vector<std::string_view>();
  return split(body, '\n');
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
  // Keys are written straight into the request: no temporary copy of a secret to wipe.
  auto keyLine = [&out](std::string_view key, const Key& k) {
    out.append(key);
    out.push_back('=');
    k.appendHex(out);
    out.push_back('\n');
  };
  line("set", "1");
  if (update.private_key) keyLine("private_key", *update.private_key);
  if (update.listen_port) line("listen_port", std::to_string(*update.listen_port));
  if (update.fwmark) line("fwmark", std::to_string(*update.fwmark));
  if (update.replace_peers) line("replace_peers", "true");
  for (const Peer& p : update.peers) {
    keyLine("public_key", p.public_key);
    if (p.remove) {
      line("remove", "true");
      continue;
    }
    // update_only must directly follow public_key: wireguard-go creates the peer on public_key and
    // undoes the creation on update_only.
    if (p.update_only) line("update_only", "true");
    if (p.preshared_key) keyLine("preshared_key", *p.preshared_key);
    if (p.endpoint) line("endpoint", p.endpoint->toString());
    if (p.persistent_keepalive)
      line("persistent_keepalive_interval", std::to_string(*p.persistent_keepalive));
    if (p.replace_allowed_ips) line("replace_allowed_ips", "true");
    for (const IpPrefix& ip : p.allowed_ips) {
      out.append("allowed_ip=");
      appendPrefix(out, ip);
      out.push_back('\n');
    }
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

GetReplyDecoder::GetReplyDecoder(size_t expected_peers) : index_(expected_peers) {
  device_.peers.reserve(expected_peers);
  seen_.reserve(expected_peers);
}

size_t GetReplyDecoder::feed(std::string_view bytes) {
  size_t taken = 0;
  while (taken < bytes.size() && !ended_) {
    const std::string_view rest = bytes.substr(taken);
    const size_t newline = rest.find('\n');
    if (newline == std::string_view::npos) {  // the line goes on in the next bytes
      partial_.mutableText().append(rest);
      taken = bytes.size();
      break;
    }
    taken += newline + 1;
    if (partial_.get().empty()) {
      line(rest.substr(0, newline));
    } else {
      partial_.mutableText().append(rest.substr(0, newline));
      line(partial_.get());
      secureWipe(partial_.mutableText());  // it may have held the private key
    }
  }
  received_ += taken;
  return taken;
}

void GetReplyDecoder::line(std::string_view text) {
  if (text.empty()) {  // the blank line: the end of the reply
    ended_ = true;
    return;
  }
  ++line_no_;
  // The errno line must come last, and is known to be last only when the blank line follows it.
  if (pending_errno_) {
    if (!error_) error_ = lineError(pending_errno_->line_no, "errno", "errno before the end of the reply");
    pending_errno_.reset();
  }
  if (startsWith(text, "errno=")) {
    pending_errno_ = PendingErrno{line_no_, std::string(text.substr(6))};
    return;
  }
  if (!error_) {
    if (auto problem = content(text, line_no_)) error_ = std::move(problem);
  }
}

std::optional<Error> GetReplyDecoder::content(std::string_view line, size_t line_no) {
  const auto [field, eq] = fieldOf(line);
  if (eq == std::string_view::npos || eq == 0) return fail("UAPI reply line ", line_no, " is not key=value");
  const std::string_view key = line.substr(0, eq);
  const std::string_view value = line.substr(eq + 1);

  switch (field) {
    case Field::kPrivateKey: {
      if (current_ != kNoPeer) return lineError(line_no, key, "device field after the first peer");
      if (seen_private_) return lineError(line_no, key, "repeated");
      seen_private_ = true;
      auto k = Key::fromHex(value);
      if (!k) return lineError(line_no, key, "not a 64-digit hex key");  // never echo a private key
      if (!k->isZero()) device_.private_key = *k;
      return std::nullopt;
    }
    case Field::kListenPort: {
      if (current_ != kNoPeer) return lineError(line_no, key, "device field after the first peer");
      uint16_t port = 0;
      if (seen_port_) return lineError(line_no, key, "repeated");
      seen_port_ = true;
      if (!parseUnsigned<uint16_t>(value, 65535, port)) {
        return lineError(line_no, key, str("invalid port ", quoted(value)));
      }
      device_.listen_port = port;
      return std::nullopt;
    }
    case Field::kFwmark: {
      if (current_ != kNoPeer) return lineError(line_no, key, "device field after the first peer");
      uint32_t mark = 0;
      if (seen_fwmark_) return lineError(line_no, key, "repeated");
      seen_fwmark_ = true;
      if (!parseUnsigned<uint32_t>(value, std::numeric_limits<uint32_t>::max(), mark)) {
        return lineError(line_no, key, str("invalid fwmark ", quoted(value)));
      }
      device_.fwmark = mark;
      return std::nullopt;
    }
    case Field::kErrno:  // never: line() holds errno lines back until it knows whether they are last
      return lineError(line_no, key, "errno before the end of the reply");
    case Field::kPublicKey: {
      auto k = Key::fromHex(value);
      if (!k) return lineError(line_no, key, str("not a 64-digit hex key: ", quoted(value)));
      const auto position = static_cast<uint32_t>(device_.peers.size());
      auto keyAt = [this](uint32_t at) -> const Key& { return device_.peers[at].public_key; };
      const uint32_t earlier = index_.insert(*k, PeerKeyIndex::hashOf(*k), position, keyAt);
      if (earlier == PeerKeyIndex::kAbsent) {
        device_.peers.emplace_back().public_key = *k;
        seen_.push_back(0);
        current_ = position;
      } else {
        current_ = earlier;
      }
      return std::nullopt;
    }
    case Field::kUnknown:
      return std::nullopt;  // a newer wireguard-go; ignore
    default:
      break;
  }
  if (current_ == kNoPeer) return lineError(line_no, key, "peer field before any public_key");
  Peer& peer = device_.peers[current_];
  uint8_t& peer_seen = seen_[current_];

  bool ok = true;
  switch (field) {
    case Field::kPresharedKey: {
      auto k = Key::fromHex(value);
      if (!k) return lineError(line_no, key, "not a 64-digit hex key");  // secret: never echoed
      ok = setOnce(peer_seen, kPsk, peer.preshared_key, std::optional<Key>(*k));
      break;
    }
    case Field::kProtocolVersion: {
      uint32_t version = 0;
      if (!parseUnsigned<uint32_t>(value, 1000, version) || version != 1) {
        return lineError(line_no, key, str("unsupported protocol version ", quoted(value)));
      }
      break;
    }
    case Field::kEndpoint: {
      auto e = Endpoint::parse(value);
      if (!e) return lineError(line_no, key, e.error().message);
      ok = setOnce(peer_seen, kEndpoint, peer.endpoint, std::optional<Endpoint>(*e));
      break;
    }
    case Field::kHandshakeSec: {
      int64_t v = 0;
      if (!parseUnsigned<int64_t>(value, std::numeric_limits<int64_t>::max(), v)) {
        return lineError(line_no, key, str("invalid number ", quoted(value)));
      }
      ok = setOnce(peer_seen, kHandshakeSec, peer.stats.last_handshake_sec, v);
      break;
    }
    case Field::kHandshakeNsec: {
      int64_t v = 0;
      if (!parseUnsigned<int64_t>(value, 999'999'999, v)) {
        return lineError(line_no, key, str("invalid nanoseconds ", quoted(value)));
      }
      ok = setOnce(peer_seen, kHandshakeNsec, peer.stats.last_handshake_nsec, v);
      break;
    }
    case Field::kTxBytes:
    case Field::kRxBytes: {
      uint64_t v = 0;
      if (!parseUnsigned<uint64_t>(value, std::numeric_limits<uint64_t>::max(), v)) {
        return lineError(line_no, key, str("invalid counter ", quoted(value)));
      }
      ok = field == Field::kTxBytes ? setOnce(peer_seen, kTx, peer.stats.tx_bytes, v)
                                    : setOnce(peer_seen, kRx, peer.stats.rx_bytes, v);
      break;
    }
    case Field::kKeepalive: {
      uint16_t v = 0;
      if (!parseUnsigned<uint16_t>(value, 65535, v)) {
        return lineError(line_no, key, str("invalid interval ", quoted(value)));
      }
      ok = setOnce(peer_seen, kKeepalive, peer.persistent_keepalive, std::optional<uint16_t>(v));
      break;
    }
    case Field::kAllowedIp: {
      auto p = IpPrefix::parse(value);
      if (!p) return lineError(line_no, key, p.error().message);
      peer.allowed_ips.push_back(*p);
      break;
    }
    default:
      break;
  }
  if (!ok) {
    return lineError(line_no, key,
                     str("conflicts with an earlier value for peer ", peer.public_key.toBase64()));
  }
  return std::nullopt;
}

Result<Device> GetReplyDecoder::finish() && {
  // Precedence: the framing first (the reply is not what it seemed), then the errno line (a failure
  // it reports outranks anything wrong before it), then the first wrong line.
  if (received_ == 0) return fail("empty UAPI reply (connection closed without an answer)");
  if (!ended_) return fail("truncated UAPI reply (no terminating blank line)");
  if (!pending_errno_) return fail("UAPI get reply does not end with an errno line");
  NWG_ASSIGN_OR_RETURN(int err, parseErrnoValue(pending_errno_->value));
  if (err != 0) return errnoError(err);
  if (error_) return std::move(*error_);
  if (!device_.fwmark) device_.fwmark = 0;
  for (Peer& p : device_.peers) {
    if (!p.preshared_key) p.preshared_key = Key();
    if (!p.persistent_keepalive) p.persistent_keepalive = 0;
  }
  return std::move(device_);
}

Result<Device> decodeGetReply(std::string_view reply) {
  GetReplyDecoder decoder(reply.size() / 256);  // wireguard-go writes about 300 bytes per peer
  const size_t taken = decoder.feed(reply);
  if (taken < reply.size()) return fail("UAPI reply has ", reply.size() - taken, " bytes after its end");
  return std::move(decoder).finish();
}

}  // namespace nwg::wg::uapi

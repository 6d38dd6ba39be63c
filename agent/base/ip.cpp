#include "base/ip.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>

namespace nwg {

IpAddress IpAddress::v4(const std::array<uint8_t, 4>& bytes) {
  IpAddress a;
  a.family_ = Family::V4;
  std::memcpy(a.bytes_.data(), bytes.data(), 4);
  return a;
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.family_ = Family::V6;
  a.bytes_ = bytes;
  return a;
}

Result<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; bound the length first (INET6_ADDRSTRLEN = 46).
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return fail("'", text, "' is not an IP address");
  }
  char buf[INET6_ADDRSTRLEN] = {};
  std::memcpy(buf, text.data(), text.size());
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, a.bytes_.data()) == 1) {
      a.family_ = Family::V4;
      return a;
    }
  } else if (inet_pton(AF_INET6, buf, a.bytes_.data()) == 1) {
    a.family_ = Family::V6;
    return a;
  }
  return fail("'", text, "' is not an IP address");
}

bool IpAddress::isLinkLocal() const {
  if (isV4()) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(isV4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

IpPrefix::IpPrefix(IpAddress address, int length)
    : address_(address), length_(std::clamp(length, 0, address.bits())) {
  // A length out of range is a caller's bug (parse() never makes one); the clamp keeps masked() and
  // contains() defined in release builds too.
  assert(length >= 0 && length <= address.bits());
}

Result<IpPrefix> IpPrefix::parse(std::string_view text, bool allow_host) {
  size_t slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return fail("'", text, "' is not an IP prefix");
  if (slash == std::string_view::npos) {
    if (!allow_host) return fail("'", text, "' has no prefix length");
    return IpPrefix::host(*addr);
  }
  std::string_view len_text = text.substr(slash + 1);
  int len = -1;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (ec != std::errc() || end != len_text.data() + len_text.size() || len_text.empty() ||
      (len_text.size() > 1 && len_text[0] == '0') || len < 0 || len > addr->bits()) {
    return fail("'", text, "' has an invalid prefix length");
  }
  return IpPrefix(*addr, len);
}

IpPrefix IpPrefix::masked() const {
  std::array<uint8_t, 16> bytes{};
  std::memcpy(bytes.data(), address_.data(), address_.size());
  for (size_t i = 0; i < address_.size(); ++i) {
    int keep = length_ - static_cast<int>(i) * 8;
    if (keep >= 8) continue;
    bytes[i] = keep <= 0 ? uint8_t{0} : static_cast<uint8_t>(bytes[i] & (0xff << (8 - keep)));
  }
  if (address_.isV4()) return {IpAddress::v4({bytes[0], bytes[1], bytes[2], bytes[3]}), length_};
  return {IpAddress::v6(bytes), length_};
}

bool IpPrefix::contains(const IpAddress& address) const {
  if (address.family() != address_.family()) return false;
  return IpPrefix(address, length_).masked() == masked();
}

std::string IpPrefix::toString() const {
  return str(address_.toString(), "/", length_);
}

Result<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return fail("'", text, "' is not host:port ('[v6]:port' for IPv6)");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("'", text, "' has no port (want host:port)");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return fail("'", text, "' is an IPv6 endpoint without brackets (want [v6]:port)");
    }
  }
  auto addr = IpAddress::parse(host);
  if (!addr) return fail("'", text, "' does not have a numeric IP address");
  if (!text.empty() && text[0] == '[' && !addr->isV6()) {
    return fail("'", text, "' has brackets around an IPv4 address");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
      port > 65535) {
    return fail("'", text, "' has an invalid port (want 1-65535)");
  }
  return Endpoint(*addr, static_cast<uint16_t>(port));
}

std::string Endpoint::toString() const {
  if (address_.isV6()) return str("[", address_.toString(), "]:", port_);
  return str(address_.toString(), ":", port_);
}

}  // namespace nwg

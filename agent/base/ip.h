// IPv4/IPv6 addresses, prefixes and UDP endpoints, parsed strictly (numeric only, no DNS).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "base/result.h"

namespace nwg {

class IpAddress {
 public:
  enum class Family : uint8_t { V4 = 4, V6 = 6 };

  IpAddress() = default;  // 0.0.0.0
  static IpAddress v4(const std::array<uint8_t, 4>& bytes);
  static IpAddress v6(const std::array<uint8_t, 16>& bytes);
  // Accepts only numeric dotted-quad IPv4 or RFC 4291 IPv6 text (no brackets, no zone).
  static Result<IpAddress> parse(std::string_view text);

  Family family() const { return family_; }
  bool isV4() const { return family_ == Family::V4; }
  bool isV6() const { return family_ == Family::V6; }
  int bits() const { return isV4() ? 32 : 128; }
  // Network byte order; 4 significant bytes for IPv4, 16 for IPv6.
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return isV4() ? 4 : 16; }
  bool isLinkLocal() const;  // 169.254/16, fe80::/10

  std::string toString() const;
  auto operator<=>(const IpAddress&) const = default;

 private:
  Family family_ = Family::V4;
  std::array<uint8_t, 16> bytes_{};
};

class IpPrefix {
 public:
  IpPrefix() = default;
  IpPrefix(IpAddress address, int length);  // length must be within the family's bits
  // "10.0.0.1/24", "fd00::1/64"; without "/len" only when allow_host is true (then /32 or /128).
  static Result<IpPrefix> parse(std::string_view text, bool allow_host = false);
  static IpPrefix host(const IpAddress& address) { return {address, address.bits()}; }

  const IpAddress& address() const { return address_; }
  int length() const { return length_; }
  // The same prefix with host bits cleared (what WireGuard stores for an allowed IP).
  IpPrefix masked() const;
  bool contains(const IpAddress& address) const;

  std::string toString() const;
  auto operator<=>(const IpPrefix&) const = default;

 private:
  IpAddress address_;
  int length_ = 0;
};

// A UDP endpoint: "198.51.100.1:51820" or "[2001:db8::1]:51820".
class Endpoint {
 public:
  Endpoint() = default;
  Endpoint(IpAddress address, uint16_t port) : address_(address), port_(port) {}
  // Numeric host only; the port must be 1..65535.
  static Result<Endpoint> parse(std::string_view text);

  const IpAddress& address() const { return address_; }
  uint16_t port() const { return port_; }
  std::string toString() const;
  auto operator<=>(const Endpoint&) const = default;

 private:
  IpAddress address_;
  uint16_t port_ = 0;
};

inline std::ostream& operator<<(std::ostream& out, const IpAddress& a) { return out << a.toString(); }
inline std::ostream& operator<<(std::ostream& out, const IpPrefix& p) { return out << p.toString(); }
inline std::ostream& operator<<(std::ostream& out, const Endpoint& e) { return out << e.toString(); }

}  // namespace nwg

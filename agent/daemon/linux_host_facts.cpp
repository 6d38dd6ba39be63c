#include "daemon/linux_host_facts.h"

#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "base/strings.h"

namespace nwg::daemon {

namespace {

std::optional<IpAddress> addressOf(const sockaddr* sa) {
  if (!sa) return std::nullopt;
  if (sa->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    std::array<uint8_t, 4> bytes{};
    std::memcpy(bytes.data(), &sin->sin_addr, 4);
    return IpAddress::v4(bytes);
  }
  if (sa->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::array<uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &sin6->sin6_addr, 16);
    return IpAddress::v6(bytes);
  }
  return std::nullopt;
}

}  // namespace

Result<IpAddress> resolveHostName(const std::string& host) {
  if (auto numeric = IpAddress::parse(host); numeric.ok()) return numeric;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* result = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &result);
  if (rc != 0) return fail(gai_strerror(rc));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(result, ::freeaddrinfo);
  for (const addrinfo* ai = result; ai; ai = ai->ai_next) {
    if (auto address = addressOf(ai->ai_addr)) return *address;
  }
  return fail("no IPv4 or IPv6 address");
}

std::set<uint16_t> parseProcNetUdp(std::string_view text) {
  // "  sl  local_address rem_address ..." then "   0: 00000000:CA6C 00000000:0000 07 ...".
  std::set<uint16_t> ports;
  bool header = true;
  for (std::string_view line : split(text, '\n')) {
    if (header) {
      header = false;
      continue;
    }
    line = trim(line);
    size_t colon_sl = line.find(':');
    if (colon_sl == std::string_view::npos) continue;
    std::string_view rest = trim(line.substr(colon_sl + 1));
    std::string_view local = rest.substr(0, rest.find(' '));
    size_t colon = local.rfind(':');
    if (colon == std::string_view::npos) continue;
    std::string_view hex = local.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), port, 16);
    if (ec == std::errc() && end == hex.data() + hex.size() && port > 0 && port <= 65535) {
      ports.insert(static_cast<uint16_t>(port));
    }
  }
  return ports;
}

std::set<uint16_t> LinuxHostFacts::udpPortsInUse() {
  std::set<uint16_t> ports;
  for (const char* path : {"/proc/self/net/udp", "/proc/self/net/udp6"}) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    ports.merge(parseProcNetUdp(text.str()));
  }
  return ports;
}

Result<std::set<IpAddress>> LinuxHostFacts::localAddresses() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return Error::fromErrno(errno, "getifaddrs");
  std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> guard(list, ::freeifaddrs);
  std::set<IpAddress> out;
  for (const ifaddrs* a = list; a; a = a->ifa_next) {
    if (auto address = addressOf(a->ifa_addr)) out.insert(*address);
  }
  return out;
}

}  // namespace nwg::daemon

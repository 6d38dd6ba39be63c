#include "reconcile/endpoint_policy.h"

#include <algorithm>

#include "base/strings.h"

namespace nwg::reconcile {

namespace {

struct SpecialRange {
  const char* prefix;
  const char* what;
};

// Never a tenant's device: the node itself, its link, groups and reserved space.
constexpr SpecialRange kSpecialRanges[] = {
    {"0.0.0.0/8", "unspecified (0.0.0.0/8)"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local (169.254.0.0/16, e.g. the metadata service)"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved or broadcast (240.0.0.0/4)"},
    {"::/128", "unspecified (::)"},
    {"::1/128", "loopback"},
    {"fe80::/10", "link-local (fe80::/10)"},
    {"ff00::/8", "multicast"},
};

const std::vector<std::pair<IpPrefix, const char*>>& specialRanges() {
  static const auto* ranges = [] {
    auto* out = new std::vector<std::pair<IpPrefix, const char*>>();
    for (const auto& r : kSpecialRanges) out->emplace_back(*IpPrefix::parse(r.prefix), r.what);
    return out;
  }();
  return *ranges;
}

}  // namespace

IpAddress unmapped(const IpAddress& address) {
  if (!address.isV6()) return address;
  const uint8_t* b = address.data();
  bool mapped = std::all_of(b, b + 10, [](uint8_t x) { return x == 0; }) && b[10] == 0xff && b[11] == 0xff;
  if (!mapped) return address;
  return IpAddress::v4({b[12], b[13], b[14], b[15]});
}

std::optional<std::string> EndpointPolicy::refusal(const IpAddress& given,
                                                   const std::set<IpAddress>& node_addresses) const {
  const IpAddress address = unmapped(given);
  for (const auto& [prefix, what] : specialRanges()) {
    if (prefix.contains(address)) return str(given, " is ", what);
  }
  if (node_addresses.count(address) || node_addresses.count(given)) {
    return str(given, " is an address of this network node");
  }
  for (const auto& prefix : denied_) {
    if (prefix.contains(address) || prefix.contains(given)) {
      return str(given, " is in [wireguard] denied_endpoint_cidrs (", prefix, ")");
    }
  }
  return std::nullopt;
}

}  // namespace nwg::reconcile

// Fuzzes the decoder of the server's get_hubs answer (what a broker peer could forge as a reply):
// decodeHubs must never crash, and what it accepts must hold the invariants the reconciler relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "reconcile/hub_spec.h"
#include "reconcile/names.h"

namespace {

// The envelope decoder bounds nesting before JSON reaches here; keep the fuzzer's own parse bounded too.
bool tooDeep(std::string_view text) {
  int depth = 0;
  for (char c : text) {
    if (c == '[' || c == '{') {
      if (++depth > 64) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nwg::reconcile;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size > (1 << 20) || tooDeep(text)) return 0;
  auto answer = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded()) return 0;
  auto decoded = decodeHubs(answer);
  if (!decoded.ok()) return 0;
  std::set<std::string> devices;
  for (const auto& hub : decoded->hubs) {
    // Every accepted hub names a device of ours, once, and a namespace made of safe characters.
    if (!isManagedDeviceName(deviceName(hub.port_id))) std::abort();
    if (!devices.insert(deviceName(hub.port_id)).second) std::abort();
    for (char c : hub.project_id) {
      if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') std::abort();
    }
    if (hub.addresses.empty()) std::abort();
    if (hub.ovn_plug) {
      // A plug names links of ours, has a usable MAC and an address on each of its subnets.
      if (!isPlugLinkName(plugRootName(hub.ovn_plug->port_id))) std::abort();
      if (!isPlugLinkName(plugPeerName(hub.ovn_plug->port_id))) std::abort();
      if (parseMacAddress(hub.ovn_plug->mac_address) != hub.ovn_plug->mac_address) std::abort();
      if (hub.ovn_plug->fixed_ips.empty()) std::abort();
      for (const auto& ip : hub.ovn_plug->fixed_ips) {
        if (!ip.cidr.contains(ip.ip_address) || !ip.cidr.contains(ip.router_ip)) std::abort();
      }
    }
    std::set<nwg::Key> keys;
    for (const auto& spoke : hub.spokes) {
      if (spoke.allowed_ips.empty()) std::abort();
      if (nwg::isLowOrderPublicKey(spoke.public_key)) std::abort();
      if (!keys.insert(spoke.public_key).second) std::abort();  // no two peers with one key
    }
  }
  return 0;
}

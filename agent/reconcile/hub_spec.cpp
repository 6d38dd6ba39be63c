#include "reconcile/hub_spec.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "reconcile/names.h"

namespace nwg::reconcile {

namespace {

using nlohmann::json;

// Neutron IDs are UUIDs; the device name takes the first 11 characters, so insist on their shape.
bool looksLikeId(const json& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() < 11 || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'; });
}

Result<std::optional<std::string>> optionalString(const json& obj, const char* field) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return fail("'", field, "' is not a string");
  return std::optional<std::string>(it->get<std::string>());
}

// fixed_ips of a hub: each address with its subnet's prefix length, e.g. 10.10.0.1/24.
Result<std::vector<IpPrefix>> hubAddresses(const json& hub) {
  auto it = hub.find("fixed_ips");
  if (it == hub.end() || !it->is_array()) return fail("'fixed_ips' is missing or not a list");
  std::vector<IpPrefix> out;
  for (const auto& ip : *it) {
    if (!ip.is_object() || !ip.contains("ip_address") || !ip["ip_address"].is_string() ||
        !ip.contains("cidr") || !ip["cidr"].is_string()) {
      return fail("a fixed IP lacks 'ip_address' or 'cidr'");
    }
    auto addr = IpAddress::parse(ip["ip_address"].get<std::string>());
    if (!addr) return std::move(addr).error().context("fixed IP");
    auto cidr = IpPrefix::parse(ip["cidr"].get<std::string>());
    if (!cidr) return std::move(cidr).error().context("subnet CIDR");
    if (!cidr->contains(*addr)) return fail("fixed IP ", *addr, " is outside its subnet ", *cidr);
    out.emplace_back(*addr, cidr->length());
  }
  if (out.empty()) return fail("the hub has no fixed IP");
  std::sort(out.begin(), out.end());
  return out;
}

Result<SpokeSpec> decodeSpoke(const json& spoke, std::vector<DecodeProblem>& problems) {
  if (!spoke.is_object() || !looksLikeId(spoke.value("id", json()))) return fail("a spoke has no valid 'id'");
  SpokeSpec s;
  s.port_id = spoke["id"].get<std::string>();
  auto key_field = spoke.value("public_key", json());
  if (!key_field.is_string()) return fail("spoke ", s.port_id, ": 'public_key' is missing");
  auto key = Key::fromBase64(key_field.get<std::string>());
  if (!key) return std::move(key).error().context(str("spoke ", s.port_id, ": public_key"));
  if (isLowOrderPublicKey(*key)) {
    // All-zero or small-order: no handshake can succeed, and a peer the driver should have refused.
    return fail("spoke ", s.port_id,
                ": public_key is a low-order Curve25519 point (all-zero or small order)");
  }
  s.public_key = *key;
  auto endpoint = optionalString(spoke, "endpoint");
  if (!endpoint) return std::move(endpoint).error().context(str("spoke ", s.port_id));
  if (endpoint->has_value()) {
    if (auto ep = Endpoint::parse(**endpoint); ep.ok()) {
      s.endpoint = *ep;
    } else if (auto named = parseEndpointName(**endpoint)) {
      s.endpoint_name = *named;
    } else {
      // The spoke can still reach the hub itself: keep it, without an endpoint.
      problems.push_back({s.port_id, str("spoke ", s.port_id, ": endpoint ", ep.error().message,
                                         "; configured without one")});
    }
  }
  auto ips_it = spoke.find("fixed_ips");
  if (ips_it == spoke.end() || !ips_it->is_array())
    return fail("spoke ", s.port_id, ": 'fixed_ips' is not a list");
  for (const auto& ip : *ips_it) {
    if (!ip.is_object() || !ip.value("ip_address", json()).is_string()) {
      return fail("spoke ", s.port_id, ": a fixed IP lacks 'ip_address'");
    }
    auto addr = IpAddress::parse(ip["ip_address"].get<std::string>());
    if (!addr) return std::move(addr).error().context(str("spoke ", s.port_id, ": fixed IP"));
    s.allowed_ips.push_back(IpPrefix::host(*addr));
  }
  if (s.allowed_ips.empty()) return fail("spoke ", s.port_id, " has no fixed IP");
  std::sort(s.allowed_ips.begin(), s.allowed_ips.end());
  return s;
}

Result<HubSpec> decodeHub(const json& hub, std::vector<DecodeProblem>& problems) {
  HubSpec h;
  h.port_id = hub["id"].get<std::string>();
  if (auto d = hub.find("digest"); d != hub.end() && d->is_string()) h.digest = d->get<std::string>();
  if (auto p = hub.value("project_id", json()); !p.is_string() || p.get_ref<const std::string&>().empty()) {
    return fail("'project_id' is missing");
  }
  h.project_id = hub["project_id"].get<std::string>();
  // The project ID names a namespace (a file under /run/netns): refuse anything but [0-9a-zA-Z_-].
  for (char c : h.project_id) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return fail("'project_id' has a character not allowed in a namespace name");
    }
  }
  if (auto n = hub.value("network_id", json()); n.is_string()) h.network_id = n.get<std::string>();
  if (auto a = hub.value("admin_state_up", json(true)); a.is_boolean()) {
    h.admin_state_up = a.get<bool>();
  } else {
    return fail("'admin_state_up' is not a boolean");
  }
  if (auto s = hub.value("status", json()); s.is_string()) h.status = s.get<std::string>();
  NWG_ASSIGN_OR_RETURN(h.neutron_public_key, optionalString(hub, "public_key"));
  NWG_ASSIGN_OR_RETURN(h.neutron_endpoint, optionalString(hub, "endpoint"));
  if (auto r = hub.value("root_device", json(false)); r.is_boolean()) {
    h.root_device = r.get<bool>();
  } else {
    return fail("'root_device' is not a boolean");
  }
  if (auto m = hub.value("mtu", json());
      m.is_number_integer() && m.get<int64_t>() >= 0 && m.get<int64_t>() <= 65535) {
    h.network_mtu = static_cast<uint32_t>(m.get<int64_t>());
  } else if (!m.is_null()) {
    return fail("'mtu' is not a valid MTU");
  }
  if (auto r = hub.value("router_id", json()); !r.is_null()) {
    if (!looksLikeId(r)) return fail("'router_id' is not an ID");
    h.router_id = r.get<std::string>();
  }
  NWG_ASSIGN_OR_RETURN(h.addresses, hubAddresses(hub));
  static const json kNoSpokes = json::array();
  auto spokes_it = hub.find("spokes");
  const json& spokes = spokes_it == hub.end() || spokes_it->is_null() ? kNoSpokes : *spokes_it;
  if (!spokes.is_array()) return fail("'spokes' is not a list");
  for (const auto& spoke : spokes) {
    auto s = decodeSpoke(spoke, problems);
    if (!s) {
      problems.push_back({h.port_id, s.error().message});
      continue;
    }
    h.spokes.push_back(std::move(*s));
  }
  std::sort(h.spokes.begin(), h.spokes.end(),
            [](const SpokeSpec& a, const SpokeSpec& b) { return a.port_id < b.port_id; });
  // Two spokes with one key would fight over one WireGuard peer: keep neither, say why.
  for (size_t i = 0; i < h.spokes.size(); ++i) {
    for (size_t j = i + 1; j < h.spokes.size(); ++j) {
      if (h.spokes[i].public_key == h.spokes[j].public_key) {
        problems.push_back({h.port_id, str("spokes ", h.spokes[i].port_id, " and ", h.spokes[j].port_id,
                                           " share a public key; both left out")});
      }
    }
  }
  std::vector<SpokeSpec> unique;
  for (const auto& s : h.spokes) {
    auto same_key = [&](const SpokeSpec& o) { return o.public_key == s.public_key; };
    if (std::count_if(h.spokes.begin(), h.spokes.end(), same_key) == 1) unique.push_back(s);
  }
  h.spokes = std::move(unique);
  return h;
}

}  // namespace

std::optional<EndpointName> parseEndpointName(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
      port > 65535) {
    return std::nullopt;
  }
  if (host.size() > 253) return std::nullopt;
  bool has_letter = false;
  for (std::string_view label : split(host, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return std::nullopt;
    for (char c : label) {
      if (isalpha(static_cast<unsigned char>(c))) {
        has_letter = true;
      } else if (!isdigit(static_cast<unsigned char>(c)) && c != '-') {
        return std::nullopt;
      }
    }
  }
  if (!has_letter) return std::nullopt;  // all digits is a malformed address, not a name
  return EndpointName{std::string(host), static_cast<uint16_t>(port)};
}

Result<DecodedHubs> decodeHubs(const json& answer) {
  if (!answer.is_object() || !answer.contains("hubs") || !answer["hubs"].is_array()) {
    return fail("get_hubs answer has no 'hubs' list");
  }
  DecodedHubs out;
  for (const auto& hub : answer["hubs"]) {
    if (!hub.is_object() || !looksLikeId(hub.value("id", json()))) {
      // Without an ID we cannot even say which hub is broken: the whole answer is suspect.
      return fail("get_hubs answer has a hub without a valid 'id'");
    }
    if (hub.value("unchanged", json(false)) == json(true)) {
      auto digest = hub.value("digest", json());
      if (!digest.is_string() || digest.get_ref<const std::string&>().empty()) {
        return fail("get_hubs answer has an unchanged hub without a digest");
      }
      out.unchanged.push_back({hub["id"].get<std::string>(), digest.get<std::string>()});
      continue;
    }
    auto h = decodeHub(hub, out.problems);
    if (!h) {
      std::string id = hub["id"].get<std::string>();
      out.problems.push_back({id, h.error().message});
      out.invalid_hubs.push_back(id);
      continue;
    }
    out.hubs.push_back(std::move(*h));
  }
  std::sort(out.hubs.begin(), out.hubs.end(),
            [](const HubSpec& a, const HubSpec& b) { return a.port_id < b.port_id; });
  for (size_t i = 1; i < out.hubs.size(); ++i) {
    if (deviceName(out.hubs[i].port_id) == deviceName(out.hubs[i - 1].port_id)) {
      return fail("hubs ", out.hubs[i - 1].port_id, " and ", out.hubs[i].port_id,
                  " map to the same device name");
    }
  }
  return out;
}

}  // namespace nwg::reconcile

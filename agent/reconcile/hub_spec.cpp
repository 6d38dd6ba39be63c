#include "reconcile/hub_spec.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "base/mac.h"
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

Result<IpAddress> ipField(const json& obj, const char* field, const char* what) {
  auto it = obj.find(field);
  if (it == obj.end() || !it->is_string()) return fail(what, " lacks '", field, "'");
  auto addr = IpAddress::parse(it->get<std::string>());
  if (!addr) return std::move(addr).error().context(str(what, " '", field, "'"));
  return *addr;
}

// "ovn_plug": null, or the plug port of an OVN-routed hub (docs/rpc.md). Every error names the field.
Result<std::optional<OvnPlug>> decodeOvnPlug(const json& hub) {
  auto it = hub.find("ovn_plug");
  if (it == hub.end() || it->is_null()) return std::optional<OvnPlug>();
  if (!it->is_object()) return fail("'ovn_plug' is not an object");
  const json& p = *it;
  OvnPlug plug;
  if (!looksLikeId(p.value("port_id", json()))) return fail("'ovn_plug.port_id' is missing or not a port ID");
  plug.port_id = p["port_id"].get<std::string>();
  auto mac = p.value("mac_address", json());
  auto parsed_mac = mac.is_string() ? parseMacAddress(mac.get<std::string>()) : std::nullopt;
  if (!parsed_mac) return fail("'ovn_plug.mac_address' is missing or not a unicast MAC address");
  plug.mac_address = *parsed_mac;
  auto ips = p.find("fixed_ips");
  if (ips == p.end() || !ips->is_array() || ips->empty()) {
    return fail("'ovn_plug.fixed_ips' is missing, empty or not a list");
  }
  for (const auto& ip : *ips) {
    if (!ip.is_object()) return fail("'ovn_plug.fixed_ips' has an entry that is not an object");
    OvnPlugIp entry;
    NWG_ASSIGN_OR_RETURN(entry.ip_address, ipField(ip, "ip_address", "'ovn_plug.fixed_ips' entry"));
    NWG_ASSIGN_OR_RETURN(entry.router_ip, ipField(ip, "router_ip", "'ovn_plug.fixed_ips' entry"));
    auto cidr_field = ip.value("cidr", json());
    if (!cidr_field.is_string()) return fail("'ovn_plug.fixed_ips' entry lacks 'cidr'");
    auto cidr = IpPrefix::parse(cidr_field.get<std::string>());
    if (!cidr) return std::move(cidr).error().context("'ovn_plug.fixed_ips' entry 'cidr'");
    entry.cidr = cidr->masked();
    if (auto v = ip.find("ip_version"); v != ip.end() && !v->is_null()) {
      const int want = entry.ip_address.isV4() ? 4 : 6;
      if (!v->is_number_integer() || v->get<int64_t>() != want) {
        return fail("'ovn_plug.fixed_ips' entry 'ip_version' does not match ", entry.ip_address);
      }
    }
    if (!entry.cidr.contains(entry.ip_address)) {
      return fail("'ovn_plug.fixed_ips': ", entry.ip_address, " is outside its subnet ", entry.cidr);
    }
    if (!entry.cidr.contains(entry.router_ip) || entry.router_ip == entry.ip_address) {
      return fail("'ovn_plug.fixed_ips': router_ip ", entry.router_ip, " is not another address of ",
                  entry.cidr);
    }
    plug.fixed_ips.push_back(entry);
  }
  std::sort(plug.fixed_ips.begin(), plug.fixed_ips.end(),
            [](const OvnPlugIp& a, const OvnPlugIp& b) { return a.ip_address < b.ip_address; });
  return std::optional<OvnPlug>(std::move(plug));
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

// A revision: a non-negative integer.
Result<std::optional<uint64_t>> optionalRevision(const json& obj, const char* field) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return std::optional<uint64_t>();
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
    return fail("'", field, "' is not a revision (a non-negative integer)");
  }
  return std::optional<uint64_t>(it->get<uint64_t>());
}

Result<std::vector<std::string>> removedSpokes(const json& obj) {
  std::vector<std::string> out;
  auto it = obj.find("removed_spokes");
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return fail("'removed_spokes' is not a list");
  for (const auto& id : *it) {
    if (!looksLikeId(id)) return fail("'removed_spokes' has an entry that is not a port ID");
    out.push_back(id.get<std::string>());
  }
  return out;
}

Result<std::optional<std::string>> spokesNext(const json& obj) {
  auto it = obj.find("spokes_next");
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!looksLikeId(*it)) return fail("'spokes_next' is not a port ID");
  return std::optional<std::string>(it->get<std::string>());
}

// The ID of a spoke entry that could not be decoded, when it has a readable one (a delta must then
// drop the spoke's old version rather than keep it).
std::optional<std::string> idOfUnusable(const json& spoke) {
  if (spoke.is_object() && looksLikeId(spoke.value("id", json()))) return spoke["id"].get<std::string>();
  return std::nullopt;
}

Result<HubSpec> decodeHub(const json& hub, std::vector<DecodeProblem>& problems,
                          std::vector<std::string>* unusable = nullptr) {
  HubSpec h;
  h.port_id = hub["id"].get<std::string>();
  if (auto d = hub.find("digest"); d != hub.end() && d->is_string()) h.digest = d->get<std::string>();
  NWG_ASSIGN_OR_RETURN(h.revision, optionalRevision(hub, "revision"));
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
  NWG_ASSIGN_OR_RETURN(h.ovn_plug, decodeOvnPlug(hub));
  static const json kNoSpokes = json::array();
  auto spokes_it = hub.find("spokes");
  const json& spokes = spokes_it == hub.end() || spokes_it->is_null() ? kNoSpokes : *spokes_it;
  if (!spokes.is_array()) return fail("'spokes' is not a list");
  for (const auto& spoke : spokes) {
    auto s = decodeSpoke(spoke, problems);
    if (!s) {
      problems.push_back({h.port_id, s.error().message});
      if (auto id = idOfUnusable(spoke); id && unusable) unusable->push_back(*id);
      continue;
    }
    h.spokes.push_back(std::move(*s));
  }
  std::sort(h.spokes.begin(), h.spokes.end(),
            [](const SpokeSpec& a, const SpokeSpec& b) { return a.port_id < b.port_id; });
  for (const auto& id : dropSpokesSharingKeys(h, problems)) {
    if (unusable) unusable->push_back(id);
  }
  return h;
}

}  // namespace

std::set<std::string> dropSpokesSharingKeys(HubSpec& hub, std::vector<DecodeProblem>& problems) {
  // Two spokes with one key would fight over one WireGuard peer: keep neither, say why. Sorting
  // indexes by key finds them in O(n log n) (a hub may have tens of thousands of spokes).
  std::vector<size_t> order(hub.spokes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return hub.spokes[a].public_key < hub.spokes[b].public_key; });
  std::vector<bool> drop(hub.spokes.size(), false);
  for (size_t i = 1; i < order.size(); ++i) {
    const SpokeSpec& a = hub.spokes[order[i - 1]];
    const SpokeSpec& b = hub.spokes[order[i]];
    if (a.public_key == b.public_key) {
      problems.push_back(
          {hub.port_id, str("spokes ", std::min(a.port_id, b.port_id), " and ",
                            std::max(a.port_id, b.port_id), " share a public key; both left out")});
      drop[order[i - 1]] = drop[order[i]] = true;
    }
  }
  std::set<std::string> dropped;
  if (std::find(drop.begin(), drop.end(), true) == drop.end()) return dropped;
  std::vector<SpokeSpec> kept;
  for (size_t i = 0; i < hub.spokes.size(); ++i) {
    if (drop[i]) {
      dropped.insert(hub.spokes[i].port_id);
    } else {
      kept.push_back(std::move(hub.spokes[i]));
    }
  }
  hub.spokes = std::move(kept);
  return dropped;
}

std::vector<SpokeSpec>::const_iterator spokePosition(const HubSpec& hub, std::string_view port_id) {
  return std::lower_bound(hub.spokes.begin(), hub.spokes.end(), port_id,
                          [](const SpokeSpec& a, std::string_view id) { return a.port_id < id; });
}

const SpokeSpec* findSpoke(const HubSpec& hub, std::string_view port_id) {
  auto it = spokePosition(hub, port_id);
  return it != hub.spokes.end() && it->port_id == port_id ? &*it : nullptr;
}

std::set<std::string> applySpokeChanges(HubSpec& hub, std::vector<SpokeSpec> upserts,
                                        const std::vector<std::string>& removed) {
  std::set<std::string> changed;
  for (const auto& id : removed) {
    auto it = spokePosition(hub, id);
    if (it != hub.spokes.end() && it->port_id == id) hub.spokes.erase(it);
    changed.insert(id);
  }
  for (auto& spoke : upserts) {
    changed.insert(spoke.port_id);
    auto it = spokePosition(hub, spoke.port_id);
    if (it != hub.spokes.end() && it->port_id == spoke.port_id) {
      hub.spokes[static_cast<size_t>(it - hub.spokes.cbegin())] = std::move(spoke);
    } else {
      hub.spokes.insert(it, std::move(spoke));
    }
  }
  return changed;
}

bool sameDeviceFields(const HubSpec& a, const HubSpec& b) {
  return a.port_id == b.port_id && a.project_id == b.project_id && a.admin_state_up == b.admin_state_up &&
         a.root_device == b.root_device && a.network_mtu == b.network_mtu && a.router_id == b.router_id &&
         a.addresses == b.addresses && a.ovn_plug == b.ovn_plug;
}

std::optional<std::string> parseMacAddress(std::string_view text) {
  auto bytes = parseMac(text);
  if (!bytes || ((*bytes)[0] & 1)) return std::nullopt;  // multicast: no port has such an address
  return formatMac(bytes->data(), bytes->size());
}

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
    const std::string id = hub["id"].get<std::string>();
    std::vector<std::string> unusable;
    auto h = decodeHub(hub, out.problems, &unusable);
    auto base = h ? optionalRevision(hub, "base_revision") : Result<std::optional<uint64_t>>(std::nullopt);
    auto removed = h ? removedSpokes(hub) : Result<std::vector<std::string>>(std::vector<std::string>{});
    auto next = h ? spokesNext(hub) : Result<std::optional<std::string>>(std::nullopt);
    Status valid = !h         ? Status(h.error())
                   : !base    ? Status(base.error())
                   : !removed ? Status(removed.error())
                   : !next    ? Status(next.error())
                              : okStatus();
    if (valid.ok() && *base && !h->revision) valid = fail("a delta (base_revision) without its 'revision'");
    if (!valid.ok()) {
      out.problems.push_back({id, valid.error().message});
      out.invalid_hubs.push_back(id);
      continue;
    }
    if (*next) out.spokes_next[id] = **next;
    if (*base) {
      // A spoke that changed into something unusable: its old version must go too.
      removed->insert(removed->end(), unusable.begin(), unusable.end());
      out.deltas.push_back({std::move(*h), **base, std::move(*removed)});
    } else {
      out.hubs.push_back(std::move(*h));
    }
  }
  std::sort(out.hubs.begin(), out.hubs.end(),
            [](const HubSpec& a, const HubSpec& b) { return a.port_id < b.port_id; });
  std::vector<std::string> ids;
  for (const auto& h : out.hubs) ids.push_back(h.port_id);
  for (const auto& d : out.deltas) ids.push_back(d.hub.port_id);
  for (const auto& u : out.unchanged) ids.push_back(u.port_id);
  std::sort(ids.begin(), ids.end());
  for (size_t i = 1; i < ids.size(); ++i) {
    if (deviceName(ids[i]) == deviceName(ids[i - 1])) {
      return fail("hubs ", ids[i - 1], " and ", ids[i], " map to the same device name");
    }
  }
  return out;
}

Result<SpokePage> decodeSpokePage(const json& answer, std::vector<DecodeProblem>& problems) {
  if (!answer.is_object() || !answer.contains("spokes") || !answer["spokes"].is_array()) {
    return fail("get_hub_spokes answer has no 'spokes' list");
  }
  SpokePage page;
  NWG_ASSIGN_OR_RETURN(auto revision, optionalRevision(answer, "revision"));
  if (!revision) return fail("get_hub_spokes answer has no 'revision'");
  page.revision = *revision;
  std::vector<std::string> unusable;
  for (const auto& spoke : answer["spokes"]) {
    auto s = decodeSpoke(spoke, problems);
    if (!s) {
      problems.push_back({"", s.error().message});
      if (auto id = idOfUnusable(spoke)) unusable.push_back(*id);
      continue;
    }
    page.spokes.push_back(std::move(*s));
  }
  std::sort(page.spokes.begin(), page.spokes.end(),
            [](const SpokeSpec& a, const SpokeSpec& b) { return a.port_id < b.port_id; });
  NWG_ASSIGN_OR_RETURN(page.removed_spokes, removedSpokes(answer));
  page.removed_spokes.insert(page.removed_spokes.end(), unusable.begin(), unusable.end());
  NWG_ASSIGN_OR_RETURN(page.spokes_next, spokesNext(answer));
  return page;
}

}  // namespace nwg::reconcile

#include "reconcile/reconciler.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <charconv>
#include <fstream>
#include <sstream>

#include "reconcile/hub_spec.h"
#include "reconcile/names.h"

namespace nwg::reconcile {

namespace {

constexpr int kAddressInUse = 98;  // EADDRINUSE, as both transports report it

std::vector<std::string> deviceNames(const std::set<std::string>& port_ids) {
  std::vector<std::string> out;
  for (const auto& id : port_ids) out.push_back(deviceName(id));
  return out;
}

}  // namespace

Reconciler::Reconciler(ServerApi& server, Observer& observer, Applier& applier, IdentityStore& identities,
                       LogSink& log, ReconcilerOptions options,
                       std::function<std::set<uint16_t>()> udp_ports_in_use)
    : server_(server),
      observer_(observer),
      applier_(applier),
      identities_(identities),
      log_(log),
      options_(std::move(options)),
      udp_ports_in_use_(std::move(udp_ports_in_use)) {}

PassReport Reconciler::syncAll() { return run(std::nullopt); }

PassReport Reconciler::syncHubs(const std::set<std::string>& hub_ids) { return run(hub_ids); }

std::optional<std::string> Reconciler::endpointFor(uint16_t listen_port) const {
  if (!options_.advertised_address) return std::nullopt;
  return Endpoint(*options_.advertised_address, listen_port).toString();
}

Result<HubIdentity> Reconciler::identityFor(const HubSpec& hub, const HostObservation& host, bool& created) {
  created = false;
  if (auto stored = identities_.find(hub.port_id)) return *stored;
  const DeviceObservation* seen = host.findDevice(deviceName(hub.port_id), "");
  const wg::Device* device = seen && seen->config ? &*seen->config : nullptr;
  bool device_has_identity = device && device->private_key && device->listen_port;
  if (identities_.unreadable().count(hub.port_id) && !device_has_identity) {
    // Generating a new key would silently cut off every spoke: make the operator look instead.
    return fail("state file ", identities_.pathOf(hub.port_id), " is unreadable (",
                identities_.unreadable().at(hub.port_id),
                "); refusing to generate a new key: restore or remove the file");
  }
  HubIdentity identity;
  if (device_has_identity) {
    // The state directory lost this hub but the device still runs: adopt its identity, re-key nothing.
    identity = {*device->private_key, *device->listen_port};
  } else {
    std::set<uint16_t> taken = identities_.usedPorts();
    taken.merge(udp_ports_in_use_());
    auto port = allocateListenPort(options_.listen_port_first, options_.listen_port_last, taken);
    if (!port) {
      return fail("no free listen port in ", options_.listen_port_first, ":", options_.listen_port_last);
    }
    identity = {device && device->private_key ? *device->private_key : generatePrivateKey(), *port};
  }
  if (applier_.dryRun()) {
    log_.info(str("dry run: would store a new identity for hub ", hub.port_id, " (listen port ",
                  identity.listen_port, ") in ", identities_.directory()));
  } else {
    NWG_RETURN_IF_ERROR(identities_.put(hub.port_id, identity));
    log_.info(str("hub ", hub.port_id, ": new identity stored (public key ",
                  publicKeyOf(identity.private_key).toBase64(), ", listen port ", identity.listen_port, ")"));
  }
  created = true;
  return identity;
}

HubSpec Reconciler::withResolvedEndpoints(const HubSpec& hub) {
  HubSpec out = hub;
  for (auto& spoke : out.spokes) {
    if (spoke.endpoint || !spoke.endpoint_name) continue;
    const std::string& name = spoke.endpoint_name->host;
    auto cached = resolved_.find(name);
    if (cached == resolved_.end()) {
      auto address = options_.resolve ? options_.resolve(name) : resolveHostName(name);
      if (!address) {
        log_.warning(str("spoke ", spoke.port_id, ": cannot resolve endpoint ", name, " (",
                         address.error().message, "); configured without an endpoint"));
      }
      cached = resolved_.emplace(name, address.ok() ? std::optional<IpAddress>(*address) : std::nullopt).first;
    }
    if (cached->second) spoke.endpoint = Endpoint(*cached->second, spoke.endpoint_name->port);
  }
  return out;
}

Status Reconciler::realize(const HubSpec& named_hub, const HostObservation& host, PassReport& report) {
  const HubSpec hub = withResolvedEndpoints(named_hub);
  bool created = false;
  NWG_ASSIGN_OR_RETURN(HubIdentity identity, identityFor(hub, host, created));
  PeerMemories& memory = peer_memory_[hub.port_id];
  if (const DeviceObservation* seen = host.findDevice(deviceName(hub.port_id), ""); seen && seen->config) {
    for (const auto& peer : seen->config->peers) {
      if (peer.endpoint) memory[peer.public_key].seen = peer.endpoint;
    }
  }
  HubPlan plan = planHub(hub, identity, host, options_.planner, &memory);
  for (const auto& action : plan.actions) {
    Status s = applier_.apply(action);
    ++report.actions;
    if (!s.ok()) {
      if (created && s.error().code == kAddressInUse && !applier_.dryRun()) {
        // The port was taken between allocation and use: forget it so the next pass picks another.
        (void)identities_.remove(hub.port_id);
      }
      return s;
    }
  }
  PeerMemories kept;  // spokes that left the hub are forgotten
  for (const auto& spoke : hub.spokes) {
    PeerMemory& m = kept[spoke.public_key];
    m = memory[spoke.public_key];
    m.applied = spoke.endpoint;
    m.applied_known = true;
  }
  memory = std::move(kept);

  if (!applier_.dryRun()) {
    std::string public_key = publicKeyOf(identity.private_key).toBase64();
    std::optional<std::string> endpoint = endpointFor(identity.listen_port);
    bool key_differs = hub.neutron_public_key != public_key;
    bool endpoint_differs = endpoint && hub.neutron_endpoint != endpoint;
    if (key_differs || endpoint_differs) {
      Status s = server_.updateHubPort(hub.port_id, endpoint, public_key);
      if (!s.ok()) return std::move(s).error().context("report public key and endpoint to Neutron");
      reported_hub_port_.insert(hub.port_id);
      log_.info(str("hub ", hub.port_id, ": reported public key ", public_key, " and endpoint ",
                    endpoint.value_or("(none: [wireguard] endpoint is not set)"), " to Neutron"));
    }
  }
  report.peers += hub.spokes.size();
  return okStatus();
}

void Reconciler::removeHub(const std::string& port_id, const HostObservation& host, PassReport& report) {
  const std::string ifname = deviceName(port_id);
  if (options_.ignored_devices.count(ifname)) return;
  bool ok = true;
  bool removed_something = false;
  for (const auto& d : host.devices) {
    if (d.link.name != ifname) continue;
    Status s = applier_.apply(DestroyDevice{{d.netns, ifname}});
    ++report.actions;
    if (!s.ok()) {
      log_.warning(str("hub ", port_id, " was removed in Neutron but its device could not be: ", s.error().message));
      ok = false;
      continue;
    }
    removed_something = true;
    // A project namespace that held only this device goes with it (a later hub re-creates it).
    auto ns = host.namespaces.find(d.netns);
    if (isProjectNamespace(d.netns) && ns != host.namespaces.end() &&
        std::all_of(ns->second.links.begin(), ns->second.links.end(),
                    [&](const std::string& l) { return l == ifname; })) {
      if (Status r = applier_.apply(RemoveNamespace{d.netns}); !r.ok()) log_.warning(r.error().message);
      ++report.actions;
    }
  }
  if (ok && (identities_.find(port_id) || identities_.unreadable().count(port_id))) {
    if (applier_.dryRun()) {
      log_.info(str("dry run: would remove ", identities_.pathOf(port_id)));
    } else if (Status s = identities_.remove(port_id); !s.ok()) {
      log_.warning(s.error().message);
      ok = false;
    }
    removed_something = true;
  }
  peer_memory_.erase(port_id);
  if (ok && removed_something) report.removed.push_back(port_id);
}

void Reconciler::reportToNeutron(const std::vector<HubSpec>& hubs, const std::vector<std::string>& invalid,
                                 PassReport& report) {
  std::vector<std::string> up;
  std::vector<std::string> down;
  std::set<std::string> realized(report.realized.begin(), report.realized.end());
  for (const auto& hub : hubs) {
    bool ok = realized.count(hub.port_id) > 0;
    if (ok && hub.admin_state_up) {
      // update_hub_port changes binding:profile, which makes Neutron reset the port to DOWN.
      if (hub.status != "ACTIVE" || reported_hub_port_.count(hub.port_id)) up.push_back(hub.port_id);
    } else if (hub.status != "DOWN") {
      down.push_back(hub.port_id);
    }
  }
  for (const auto& id : invalid) down.push_back(id);  // a hub we cannot even read is not usable
  reported_hub_port_.clear();
  if (up.empty() && down.empty()) return;
  if (applier_.dryRun()) {
    log_.info(str("dry run: would report ACTIVE: [", join(up, ", "), "], DOWN: [", join(down, ", "), "]"));
    return;
  }
  Status s = server_.updateDeviceList(up, down);
  if (!s.ok()) {
    log_.warning(str("could not report port status to Neutron (retried next pass): ", s.error().message));
    for (const auto& id : up) report.failed.emplace(id, "status not reported to Neutron");
  }
}

PassReport Reconciler::run(const std::optional<std::set<std::string>>& only) {
  PassReport report;
  resolved_.clear();
  std::optional<std::vector<std::string>> ids;
  if (only) ids = std::vector<std::string>(only->begin(), only->end());
  auto answer = server_.getHubs(ids);
  if (!answer) {
    report.failure = str("get_hubs failed: ", answer.error().message);
    return report;
  }
  auto decoded = decodeHubs(*answer);
  if (!decoded) {
    report.failure = str("get_hubs answer is malformed: ", decoded.error().message);
    return report;
  }
  for (const auto& p : decoded->problems) {
    log_.warning(str("hub ", p.port_id, ": ", p.reason));
  }
  std::vector<HubSpec> hubs;
  for (auto& hub : decoded->hubs) {
    if (!only || only->count(hub.port_id)) hubs.push_back(std::move(hub));
  }

  std::optional<std::set<std::string>> details;
  if (only) {
    auto names = deviceNames(*only);
    details = std::set<std::string>(names.begin(), names.end());
  }
  auto host = observer_.observe(details);
  if (!host) {
    report.failure = str("reading the host failed: ", host.error().message);
    return report;
  }
  report.complete = true;

  std::set<std::string> claimed;
  std::set<std::string> wanted_namespaces;
  for (const auto& hub : hubs) {
    claimed.insert(deviceName(hub.port_id));
    if (options_.ignored_devices.count(deviceName(hub.port_id))) {
      report.failed.emplace(hub.port_id, "its device is in ignored_devices");
      continue;
    }
    if (std::string target = hubNamespace(hub, *host); !target.empty()) wanted_namespaces.insert(target);
    Status s = realize(hub, *host, report);
    if (s.ok()) {
      report.realized.push_back(hub.port_id);
    } else {
      log_.error(str("hub ", hub.port_id, ": ", s.error().message));
      report.failed.emplace(hub.port_id, s.error().message);
    }
  }
  for (const auto& id : decoded->invalid_hubs) {
    claimed.insert(deviceName(id));
    report.failed.emplace(id, "the server's description of this hub is malformed");
  }

  if (only) {
    // A hub named in the request but absent from a successful answer is positively no longer ours.
    for (const auto& id : *only) {
      bool listed = std::any_of(hubs.begin(), hubs.end(), [&](const HubSpec& h) { return h.port_id == id; }) ||
                    std::count(decoded->invalid_hubs.begin(), decoded->invalid_hubs.end(), id) > 0;
      if (!listed) removeHub(id, *host, report);
    }
  } else {
    bool nothing_listed = hubs.empty() && decoded->invalid_hubs.empty();
    bool something_here = !host->devices.empty() || !identities_.all().empty();
    if (nothing_listed && something_here && !empty_answer_pending_) {
      // Possibly a server that is not ready or a wrong `host`: keep everything until the next full
      // pass says the same.
      empty_answer_pending_ = true;
      log_.warning("the server lists no hub for this host; keeping existing devices until the next full "
                   "sync confirms");
    } else {
      empty_answer_pending_ = false;
      for (const auto& action : planCleanup(*host, claimed, options_.ignored_devices, wanted_namespaces)) {
        Status s = applier_.apply(action);
        ++report.actions;
        if (!s.ok()) log_.warning(s.error().message);
      }
      std::set<std::string> listed;
      for (const auto& hub : hubs) listed.insert(hub.port_id);
      listed.insert(decoded->invalid_hubs.begin(), decoded->invalid_hubs.end());
      std::vector<std::string> stale;
      for (const auto& [id, identity] : identities_.all()) {
        if (!listed.count(id)) stale.push_back(id);
      }
      for (const auto& [id, why] : identities_.unreadable()) {
        if (!listed.count(id)) stale.push_back(id);
      }
      for (const auto& id : stale) {
        if (applier_.dryRun()) {
          log_.info(str("dry run: would remove ", identities_.pathOf(id)));
        } else if (Status s = identities_.remove(id); !s.ok()) {
          log_.warning(s.error().message);
        } else {
          report.removed.push_back(id);
        }
        peer_memory_.erase(id);
      }
    }
    last_hub_count_ = report.realized.size();
  }
  reportToNeutron(hubs, decoded->invalid_hubs, report);
  return report;
}

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
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      std::array<uint8_t, 4> bytes{};
      std::memcpy(bytes.data(), &sin->sin_addr, 4);
      return IpAddress::v4(bytes);
    }
    if (ai->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      std::array<uint8_t, 16> bytes{};
      std::memcpy(bytes.data(), &sin6->sin6_addr, 16);
      return IpAddress::v6(bytes);
    }
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

std::set<uint16_t> udpPortsInUse() {
  std::set<uint16_t> ports;
  for (const char* path : {"/proc/self/net/udp", "/proc/self/net/udp6"}) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    ports.merge(parseProcNetUdp(text.str()));
  }
  return ports;
}

}  // namespace nwg::reconcile

#include "reconcile/reconciler.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "reconcile/hub_spec.h"
#include "reconcile/names.h"

namespace nwg::reconcile {

namespace {

constexpr int kAddressInUse = 98;  // EADDRINUSE, as both transports report it

// "wg-a (in tun-p1), wg-b (in tun-p2) belong to host h1; wg-c (in tun-p3) belongs to host h2"
std::string describeForeign(const std::map<std::string, std::vector<wg::DeviceRef>>& foreign) {
  std::vector<std::string> parts;
  for (const auto& [host, devices] : foreign) {
    std::vector<std::string> names;
    for (const auto& d : devices) names.push_back(describeDevice(d));
    parts.push_back(str(join(names, ", "), devices.size() == 1 ? " belongs" : " belong", " to host ", host));
  }
  return join(parts, "; ");
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

PassReport Reconciler::syncAll(Depth depth) {
  return run(std::nullopt, depth);
}

PassReport Reconciler::syncHubs(const std::set<std::string>& hub_ids) {
  return run(hub_ids, Depth::kDeep);
}

const std::string& Reconciler::publicKeyText(const std::string& port_id, const Key& private_key) {
  auto it = public_keys_.find(port_id);
  if (it == public_keys_.end() || !(it->second.first == private_key)) {
    // X25519 costs tens of microseconds: derive once per hub and key, not every pass.
    it = public_keys_
             .insert_or_assign(port_id, std::make_pair(private_key, publicKeyOf(private_key).toBase64()))
             .first;
  }
  return it->second.second;
}

bool Reconciler::stillAsVerified(const HubSpec& hub, const HostObservation& host) const {
  auto it = records_.find(hub.port_id);
  if (it == records_.end() || !it->second.verified) return false;
  const HubRecord& r = it->second;
  const DeviceObservation* d = host.findDevice(deviceName(hub.port_id), r.netns);
  // The link tells whether the device was re-created (index), moved, set down or given another MTU;
  // and the router namespace appearing or going away changes where the hub belongs.
  return d && d->netns == r.netns && d->link == r.link && hubNamespace(hub, host) == r.netns &&
         identities_.find(hub.port_id).has_value();
}

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
      cached =
          resolved_.emplace(name, address.ok() ? std::optional<IpAddress>(*address) : std::nullopt).first;
    }
    if (cached->second) spoke.endpoint = Endpoint(*cached->second, spoke.endpoint_name->port);
  }
  return out;
}

Result<size_t> Reconciler::realize(const HubSpec& named_hub, const HostObservation& host,
                                   PassReport& report) {
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
      return std::move(s).error();
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
    const std::string& public_key = publicKeyText(hub.port_id, identity.private_key);
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
  return plan.actions.size();
}

void Reconciler::removeHub(const std::string& port_id, const HostObservation& host, PassReport& report) {
  const std::string ifname = deviceName(port_id);
  if (options_.ignored_devices.count(ifname)) return;
  bool ok = true;
  bool removed_something = false;
  for (const auto& d : host.devices) {
    if (d.link.name != ifname) continue;
    if (auto owner = otherAgentsHost(d.link.alias, options_.planner.host)) {
      // Notifications name the changed hubs of every host: this is another agent's device.
      log_.debug(str("hub ", port_id, " is not this host's: its device ", describeDevice({d.netns, ifname}),
                     " belongs to host ", *owner, " and is left alone"));
      continue;
    }
    Status s = applier_.apply(DestroyDevice{{d.netns, ifname}});
    ++report.actions;
    if (!s.ok()) {
      log_.warning(
          str("hub ", port_id, " was removed in Neutron but its device could not be: ", s.error().message));
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

PassReport Reconciler::run(const std::optional<std::set<std::string>>& only, Depth depth) {
  PassReport report;
  resolved_.clear();
  const bool quick = !only && depth == Depth::kQuick;
  std::optional<std::vector<std::string>> ids;
  if (only) ids = std::vector<std::string>(only->begin(), only->end());
  std::map<std::string, std::string> digests;
  if (quick) {
    for (const auto& [id, record] : records_) {
      if (!record.spec.digest.empty()) digests[id] = record.spec.digest;
    }
  }
  auto answer = server_.getHubs(ids, quick ? &digests : nullptr);
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
  std::set<std::string> unchanged;  // hubs the server says did not change since our copy
  for (const auto& stub : decoded->unchanged) {
    auto it = records_.find(stub.port_id);
    if (it == records_.end() || it->second.spec.digest != stub.digest) {
      // A stub for a digest we never sent: our copy cannot be trusted; keep the hub, read it next pass.
      log_.warning(str("hub ", stub.port_id, ": the server answered 'unchanged' for an unknown digest"));
      decoded->invalid_hubs.push_back(stub.port_id);
      records_.erase(stub.port_id);
      continue;
    }
    unchanged.insert(stub.port_id);
    hubs.push_back(it->second.spec);
  }
  std::sort(hubs.begin(), hubs.end(),
            [](const HubSpec& a, const HubSpec& b) { return a.port_id < b.port_id; });

  // List the links everywhere (cheap), then read details only where this pass may act.
  auto host = observer_.observe(std::set<std::string>{});
  if (!host) {
    report.failure = str("reading the host failed: ", host.error().message);
    return report;
  }
  std::vector<const HubSpec*> to_plan;
  std::set<std::string> detail_devices;
  std::set<std::string> detail_namespaces;
  for (const auto& hub : hubs) {
    if (quick && unchanged.count(hub.port_id) && stillAsVerified(hub, *host)) {
      report.realized.push_back(hub.port_id);
      report.peers += hub.spokes.size();
      continue;
    }
    to_plan.push_back(&hub);
    detail_devices.insert(deviceName(hub.port_id));
    detail_namespaces.insert(hubNamespace(hub, *host));
  }
  if (Status s = observer_.fillDetails(*host, detail_devices, detail_namespaces); !s.ok()) {
    report.failure = str("reading the host failed: ", s.error().message);
    return report;
  }
  report.complete = true;

  std::set<std::string> claimed;
  std::set<std::string> wanted_namespaces;
  for (const auto& hub : hubs) {
    claimed.insert(deviceName(hub.port_id));
    if (std::string target = hubNamespace(hub, *host); !target.empty()) wanted_namespaces.insert(target);
  }
  for (const HubSpec* hub : to_plan) {
    HubRecord& record = records_[hub->port_id];
    record.spec = *hub;
    record.verified = false;
    if (options_.ignored_devices.count(deviceName(hub->port_id))) {
      report.failed.emplace(hub->port_id, "its device is in ignored_devices");
      continue;
    }
    auto actions = realize(*hub, *host, report);
    if (!actions.ok()) {
      log_.error(str("hub ", hub->port_id, ": ", actions.error().message));
      report.failed.emplace(hub->port_id, actions.error().message);
      continue;
    }
    report.realized.push_back(hub->port_id);
    if (*actions == 0 && !applier_.dryRun()) {
      // Nothing to do: the device is as wanted; later quick passes only check that its link stays so.
      const DeviceObservation* d = host->findDevice(deviceName(hub->port_id), hubNamespace(*hub, *host));
      if (d) {
        record.verified = true;
        record.netns = d->netns;
        record.link = d->link;
      }
    }
  }
  for (const auto& id : decoded->invalid_hubs) {
    claimed.insert(deviceName(id));
    report.failed.emplace(id, "the server's description of this hub is malformed");
  }

  if (only) {
    // A hub named in the request but absent from a successful answer is positively no longer ours.
    for (const auto& id : *only) {
      bool listed =
          std::any_of(hubs.begin(), hubs.end(), [&](const HubSpec& h) { return h.port_id == id; }) ||
          std::count(decoded->invalid_hubs.begin(), decoded->invalid_hubs.end(), id) > 0;
      if (!listed) {
        removeHub(id, *host, report);
        records_.erase(id);
      }
    }
  } else {
    bool nothing_listed = hubs.empty() && decoded->invalid_hubs.empty();
    bool something_here = !host->devices.empty() || !identities_.all().empty();
    if (nothing_listed && something_here && !empty_answer_pending_) {
      // Possibly a server that is not ready or a wrong `host`: keep everything until the next full
      // pass says the same.
      empty_answer_pending_ = true;
      log_.warning(
          "the server lists no hub for this host; keeping existing devices until the next full "
          "sync confirms");
    } else {
      empty_answer_pending_ = false;
      CleanupPlan cleanup =
          planCleanup(*host, claimed, options_.ignored_devices, wanted_namespaces, options_.planner.host);
      if (!cleanup.foreign.empty()) {
        // INFO when the set changes, so that a second agent's devices do not repeat in every pass.
        std::string foreign = describeForeign(cleanup.foreign);
        std::string line = str("not removing devices of other agents on this machine: ", foreign);
        if (foreign != last_foreign_) {
          log_.info(line);
        } else {
          log_.debug(line);
        }
        last_foreign_ = std::move(foreign);
      } else {
        last_foreign_.clear();
      }
      for (const auto& action : cleanup.actions) {
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
      for (auto it = records_.begin(); it != records_.end();) {
        it = listed.count(it->first) ? std::next(it) : records_.erase(it);
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

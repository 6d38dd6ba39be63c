#include "reconcile/reconciler.h"

#include <algorithm>
#include <cerrno>
#include <memory>

#include "reconcile/hub_spec.h"
#include "reconcile/names.h"

namespace nwg::reconcile {

namespace {

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

// Read failures that mean the device's process is wedged or dying, which re-creating it cures (as
// opposed to, say, EPERM, which a new device would meet again).
bool looksWedged(const Error& e) {
  return e.code == ETIMEDOUT || e.code == EPIPE || e.code == ECONNRESET;
}

}  // namespace

Reconciler::Reconciler(ServerApi& server, Observer& observer, Applier& applier, IdentityStore& identities,
                       LogSink& log, ReconcilerOptions options, HostFacts& host_facts,
                       EndpointResolver& resolver)
    : server_(server),
      observer_(observer),
      applier_(applier),
      identities_(identities),
      log_(log),
      options_(std::move(options)),
      host_facts_(host_facts),
      resolver_(resolver) {}

PassReport Reconciler::syncAll(Depth depth) {
  return run(std::nullopt, depth);
}

PassReport Reconciler::syncHubs(const std::set<std::string>& hub_ids) {
  return run(hub_ids, Depth::kDeep);
}

std::set<std::string> Reconciler::nameChanged(const std::string& name) {
  std::lock_guard lock(names_mu_);
  changed_names_.insert(name);
  auto it = name_users_.find(name);
  return it == name_users_.end() ? std::set<std::string>{} : it->second;
}

std::set<std::string> Reconciler::hubsUsingName(const std::string& name) const {
  std::lock_guard lock(names_mu_);
  auto it = name_users_.find(name);
  return it == name_users_.end() ? std::set<std::string>{} : it->second;
}

PassReport Reconciler::run(const std::optional<std::set<std::string>>& only, Depth depth) {
  Pass pass;
  pass.only = only;
  pass.quick = !only && depth == Depth::kQuick;
  if (!fetch(pass) || !observe(pass)) return pass.report;
  realizeAll(pass);
  if (cancelled_.load()) {
    pass.report.complete = false;
    pass.report.cancelled = true;
    pass.report.failure = "the agent is stopping";
    return pass.report;
  }
  if (pass.only) {
    removeUnlisted(pass);
  } else {
    cleanup(pass);
  }
  reportToNeutron(pass);
  publishRealized(pass);
  return pass.report;
}

// --- phase 1: what the server wants -------------------------------------------------------------

bool Reconciler::fetch(Pass& pass) {
  if (cancelled_.load()) {
    pass.report.cancelled = true;
    pass.report.failure = "the agent is stopping";
    return false;
  }
  {
    // Spokes whose DNS name got another answer: re-planned on the trusted path (their endpoint is
    // all that changed), or with everything else when the hub is planned in full anyway.
    std::set<std::string> names;
    {
      std::lock_guard lock(names_mu_);
      names.swap(changed_names_);
    }
    for (auto& [id, record] : records_) {
      if (!record.verified || names.empty()) continue;
      for (const auto& spoke : record.spec.spokes) {
        if (spoke.endpoint_name && names.count(spoke.endpoint_name->host) &&
            !record.pending.count(spoke.port_id)) {
          record.pending.emplace(spoke.port_id, spoke);
        }
      }
    }
  }
  HubsQuery query;
  query.spokes_limit = options_.spokes_per_answer;
  if (pass.only) query.hub_ids = std::vector<std::string>(pass.only->begin(), pass.only->end());
  // Deep passes read everything in full (the safety net); quick and notification-driven passes ask
  // for what changed since the copies the agent holds (deltas; stubs from 1.4 servers).
  if (pass.quick || pass.only) {
    for (const auto& [id, record] : records_) {
      if (pass.only && !pass.only->count(id)) continue;
      if (record.spec.revision) query.revisions[id] = *record.spec.revision;
      if (pass.quick && !record.spec.digest.empty()) query.digests[id] = record.spec.digest;
    }
  }
  auto answer = server_.getHubs(query);
  if (!answer) {
    pass.report.failure = str("get_hubs failed: ", answer.error().message);
    return false;
  }
  auto decoded = decodeHubs(*answer);
  answer = nlohmann::json();  // the parsed answer can be large: free it before the rest of the pass
  if (!decoded) {
    pass.report.failure = str("get_hubs answer is malformed: ", decoded.error().message);
    return false;
  }
  pass.decoded = std::move(*decoded);
  std::vector<DecodeProblem> problems = std::move(pass.decoded.problems);
  std::set<std::string> listed;
  for (auto& hub : pass.decoded.hubs) {
    if (pass.only && !pass.only->count(hub.port_id)) continue;
    listed.insert(hub.port_id);
    recordFull(std::move(hub));
  }
  pass.decoded.hubs.clear();
  std::map<std::string, uint64_t> delta_bases;  // hubs that came as deltas: their pages are deltas too
  for (auto& delta : pass.decoded.deltas) {
    const std::string id = delta.hub.port_id;
    if (pass.only && !pass.only->count(id)) continue;
    delta_bases[id] = delta.base_revision;
    if (!recordDelta(std::move(delta), problems)) {
      // A delta from a revision we do not hold: our copy cannot be trusted; keep the hub, read it in
      // full next pass.
      log_.warning(str("hub ", id, ": the server answered a delta from a revision the agent does not hold"));
      pass.decoded.invalid_hubs.push_back(id);
      records_.erase(id);
      continue;
    }
    listed.insert(id);
  }
  pass.decoded.deltas.clear();
  for (const auto& stub : pass.decoded.unchanged) {
    auto it = records_.find(stub.port_id);
    if (it == records_.end() || it->second.spec.digest != stub.digest) {
      // A stub for a digest we never sent: our copy cannot be trusted; keep the hub, read it next pass.
      log_.warning(str("hub ", stub.port_id, ": the server answered 'unchanged' for an unknown digest"));
      pass.decoded.invalid_hubs.push_back(stub.port_id);
      records_.erase(stub.port_id);
      continue;
    }
    listed.insert(stub.port_id);
  }
  // Hubs whose spokes did not all fit in the answer: the rest, page by page.
  for (const auto& [id, marker] : pass.decoded.spokes_next) {
    if (!listed.count(id)) continue;
    if (cancelled_.load()) break;
    auto base = delta_bases.find(id);
    if (Status s = completeHub(
            id, marker, base == delta_bases.end() ? std::nullopt : std::optional<uint64_t>(base->second),
            problems);
        !s.ok()) {
      log_.warning(
          str("hub ", id, ": reading its spokes failed (", s.error().message, "); retried next pass"));
      listed.erase(id);
      pass.decoded.invalid_hubs.push_back(id);
      records_.erase(id);
    }
  }
  for (const auto& p : problems) log_.warning(str("hub ", p.port_id, ": ", p.reason));
  for (const auto& id : listed) pass.hubs.push_back(&records_.at(id).spec);  // sorted: `listed` is a set
  return true;
}

void Reconciler::recordFull(HubSpec hub) {
  HubRecord& record = records_[hub.port_id];
  record.spec = std::move(hub);
  record.verified = false;  // read and planned in full this pass
  record.pending.clear();
  record.key_owner.clear();
  for (const auto& spoke : record.spec.spokes) record.key_owner.emplace(spoke.public_key, spoke.port_id);
  record.unpublished.reset();
}

bool Reconciler::recordDelta(HubDelta delta, std::vector<DecodeProblem>& problems) {
  auto it = records_.find(delta.hub.port_id);
  if (it == records_.end() || it->second.spec.revision != delta.base_revision) return false;
  HubRecord& record = it->second;
  HubSpec& spec = record.spec;
  if (!sameDeviceFields(spec, delta.hub)) {
    record.verified = false;  // the device itself changes: the full path
    record.pending.clear();
  }
  std::vector<std::string> removed = std::move(delta.removed_spokes);
  std::vector<SpokeSpec> upserts = std::move(delta.hub.spokes);
  // A changed spoke that now shares its key with another spoke: both are left out, as a full answer
  // leaves them out (they would fight over one WireGuard peer).
  std::set<std::string> changing;
  for (const auto& id : removed) changing.insert(id);
  for (const auto& u : upserts) changing.insert(u.port_id);
  std::set<std::string> clashing;
  for (const auto& u : upserts) {
    auto owner = record.key_owner.find(u.public_key);
    if (owner != record.key_owner.end() && owner->second != u.port_id && !changing.count(owner->second)) {
      problems.push_back({spec.port_id, str("spokes ", owner->second, " and ", u.port_id,
                                            " share a public key; both left out")});
      clashing.insert(owner->second);
      clashing.insert(u.port_id);
    }
  }
  if (!clashing.empty()) {
    upserts.erase(std::remove_if(upserts.begin(), upserts.end(),
                                 [&](const SpokeSpec& u) { return clashing.count(u.port_id) > 0; }),
                  upserts.end());
    removed.insert(removed.end(), clashing.begin(), clashing.end());
  }
  // What the device has of each changed spoke, kept until the change is applied.
  std::set<std::string> ids(removed.begin(), removed.end());
  for (const auto& u : upserts) ids.insert(u.port_id);
  if (record.unpublished) record.unpublished->insert(ids.begin(), ids.end());
  for (const auto& id : ids) {
    const SpokeSpec* old = findSpoke(spec, id);
    if (old) record.key_owner.erase(old->public_key);
    if (record.verified && !record.pending.count(id)) {
      record.pending.emplace(id, old ? std::optional<SpokeSpec>(*old) : std::nullopt);
    }
  }
  for (const auto& u : upserts) record.key_owner.emplace(u.public_key, u.port_id);
  HubSpec fields = std::move(delta.hub);
  fields.spokes = std::move(spec.spokes);
  spec = std::move(fields);
  spec.digest.clear();  // a delta carries no digest: never send a stale one
  applySpokeChanges(spec, std::move(upserts), removed);
  return true;
}

void Reconciler::applyPage(HubRecord& record, SpokePage page, std::vector<DecodeProblem>& problems) {
  HubDelta delta;
  std::vector<SpokeSpec> spokes = std::move(record.spec.spokes);  // the hub's own fields, not its spokes
  delta.hub = record.spec;
  record.spec.spokes = std::move(spokes);
  delta.hub.spokes = std::move(page.spokes);
  delta.hub.revision = std::max(page.revision, record.spec.revision.value_or(0));
  delta.base_revision = record.spec.revision.value_or(0);
  delta.removed_spokes = std::move(page.removed_spokes);
  (void)recordDelta(std::move(delta), problems);  // applies: the base is the record's own revision
}

Status Reconciler::completeHub(const std::string& hub_id, std::string marker, std::optional<uint64_t> base,
                               std::vector<DecodeProblem>& problems) {
  constexpr int kCatchUps = 3;  // a hub changing faster than it can be read is retried next pass
  for (int round = 0;; ++round) {
    auto it = records_.find(hub_id);
    if (it == records_.end()) return fail("no record");
    const uint64_t first = it->second.spec.revision.value_or(0);
    while (!marker.empty()) {
      if (cancelled_.load()) return fail("the agent is stopping");
      auto answer = server_.getHubSpokes(hub_id, marker, options_.spokes_per_answer, base);
      if (!answer) return std::move(answer).error();
      auto page = decodeSpokePage(*answer, problems);
      if (!page) return std::move(page).error();
      marker = page->spokes_next.value_or("");
      applyPage(records_.at(hub_id), std::move(*page), problems);
    }
    // Changes made while the pages were read: a delta since the first page catches them.
    HubsQuery catch_up;
    catch_up.hub_ids = std::vector<std::string>{hub_id};
    catch_up.revisions[hub_id] = first;
    catch_up.spokes_limit = options_.spokes_per_answer;
    auto answer = server_.getHubs(catch_up);
    if (!answer) return std::move(answer).error();
    auto decoded = decodeHubs(*answer);
    if (!decoded) return std::move(decoded).error();
    problems.insert(problems.end(), decoded->problems.begin(), decoded->problems.end());
    HubRecord& record = records_.at(hub_id);
    record.spec.revision = first;
    if (!decoded->deltas.empty()) {
      if (!recordDelta(std::move(decoded->deltas.front()), problems))
        return fail("the catch-up delta does not apply");
    } else if (!decoded->hubs.empty()) {
      recordFull(std::move(decoded->hubs.front()));
    } else {
      return fail("the hub is no longer listed");  // removed meanwhile: the next pass sees it gone
    }
    auto next = decoded->spokes_next.find(hub_id);
    if (next == decoded->spokes_next.end()) return okStatus();
    if (round + 1 >= kCatchUps) return fail("its spokes change faster than they can be read");
    marker = next->second;
    base = records_.at(hub_id).spec.revision;
  }
}

// --- phase 2: what the host has -----------------------------------------------------------------

std::optional<std::set<std::string>> Reconciler::trustedNamespaces(const Pass& pass) const {
  // A notified pass whose hubs all came back and were all verified looks only where they are: the
  // links of other namespaces cannot change what it does (docs/scale.md). Anything else looks
  // everywhere (a hub to remove may be anywhere).
  if (!pass.only || pass.hubs.size() != pass.only->size()) return std::nullopt;
  std::set<std::string> where;
  for (const HubSpec* hub : pass.hubs) {
    const HubRecord& record = records_.at(hub->port_id);
    if (!record.verified) return std::nullopt;
    where.insert(record.netns);
    if (hub->ovn_plug) where.insert("");  // the plug's root end
  }
  return where;
}

bool Reconciler::readHost(Pass& pass, const std::set<std::string>* only_in) {
  auto host = observer_.observe(std::set<std::string>{}, only_in);
  if (!host) {
    pass.report.failure = str("reading the host failed: ", host.error().message);
    return false;
  }
  pass.host = std::move(*host);
  return true;
}

bool Reconciler::observe(Pass& pass) {
  // List the links (everywhere, or only where a notified pass's trusted hubs are), then read details
  // only where this pass may act.
  const std::optional<std::set<std::string>> trusted = trustedNamespaces(pass);
  if (!readHost(pass, trusted ? &*trusted : nullptr)) return false;
  if (trusted && !std::all_of(pass.hubs.begin(), pass.hubs.end(), [&](const HubSpec* hub) {
        return stillAsVerified(*hub, pass.host) && !refusal(*hub);
      })) {
    // A trusted hub is not as it was left (moved, re-created, set down): look at the whole host.
    if (!readHost(pass, nullptr)) return false;
  }
  std::set<std::string> detail_devices;
  std::set<std::string> detail_namespaces;
  for (const HubSpec* hub : pass.hubs) {
    const HubRecord& record = records_.at(hub->port_id);
    // A device the agent verified and whose link is as it was then: trust it (docs/scale.md). Deep
    // passes recorded every hub afresh (not verified), so they read every device.
    if (record.verified && stillAsVerified(*hub, pass.host) && !refusal(*hub)) {
      if (record.pending.empty()) {
        pass.report.realized.push_back(hub->port_id);
        pass.report.peers += hub->spokes.size();
      } else {
        pass.spoke_plans.push_back(hub);
      }
      continue;
    }
    pass.to_plan.push_back(hub);
    detail_devices.insert(deviceName(hub->port_id));
    detail_namespaces.insert(hubNamespace(*hub, pass.host));
    if (hub->ovn_plug) detail_devices.insert(plugPeerName(hub->ovn_plug->port_id));
  }
  observer_.fillDetails(pass.host, detail_devices, detail_namespaces);
  // The integration bridge is read (one ovs-vsctl) when an OVN-routed hub is planned in full, and on
  // deep full syncs where there are plugs to look after or clean up; trusted passes trust it.
  const bool plans_ovn =
      std::any_of(pass.to_plan.begin(), pass.to_plan.end(), [](const HubSpec* hub) { return hub->ovn_plug; });
  const bool deep_full = !pass.only && !pass.quick;
  const bool has_ovn =
      !pass.host.plug_links.empty() ||
      std::any_of(pass.hubs.begin(), pass.hubs.end(), [](const HubSpec* h) { return h->ovn_plug; }) ||
      std::any_of(pass.host.namespaces.begin(), pass.host.namespaces.end(),
                  [](const auto& ns) { return isOvnHubNamespace(ns.first); });
  if (plans_ovn || (deep_full && (has_ovn || options_.ovs_cleanup))) {
    observer_.readOvsPorts(pass.host);
    if (pass.host.ovs_unreadable && (plans_ovn || has_ovn)) {
      log_.warning(str("cannot list the OVS integration bridge's plug ports (",
                       pass.host.ovs_unreadable->message, "); OVN-routed hubs wait, no plug is cleaned up"));
    }
  }
  // The node's own addresses are what spoke endpoints are checked against: read them when a pass
  // plans a hub in full, or a changed spoke names an endpoint (not for a key or an address).
  const bool endpoints_to_check =
      !pass.to_plan.empty() ||
      std::any_of(pass.spoke_plans.begin(), pass.spoke_plans.end(), [&](const HubSpec* hub) {
        const auto& pending = records_.at(hub->port_id).pending;
        return std::any_of(pending.begin(), pending.end(), [&](const auto& p) {
          const SpokeSpec* now = findSpoke(*hub, p.first);
          return now && (now->endpoint || now->endpoint_name);
        });
      });
  if (endpoints_to_check) {
    auto addresses = host_facts_.localAddresses();
    if (addresses) {
      node_addresses_ = std::move(*addresses);
    } else {
      // Keep the addresses of the last pass that could read them: the check must not lapse.
      log_.warning(str("cannot list this node's addresses (", addresses.error().message,
                       "); checking spoke endpoints against the last known ones"));
    }
    if (options_.advertised_address) node_addresses_.insert(*options_.advertised_address);
  }
  pass.report.complete = true;
  return true;
}

// --- phase 3: make each hub as wanted -----------------------------------------------------------

std::optional<std::string> Reconciler::refusal(const HubSpec& hub) const {
  if (options_.ignored_devices.count(deviceName(hub.port_id))) return "its device is in ignored_devices";
  if (hub.root_device && !options_.allow_root_device) {
    // A tenant who may write binding:profile must not put a device, its addresses and its spokes'
    // routes into the node's own namespace (docs/security.md).
    return "its binding:profile sets root_device, which this node refuses ([wireguard] allow_root_device "
           "is false): the device would live in the network node's own namespace";
  }
  return std::nullopt;
}

void Reconciler::realizeAll(Pass& pass) {
  // Hubs waiting for a DNS name they have never seen resolved go last, after a bounded wait, so that
  // a slow resolver delays no other hub.
  std::vector<const HubSpec*> now;
  std::vector<const HubSpec*> later;
  std::set<std::string> pending;
  for (const HubSpec* hub : pass.to_plan) {
    std::set<std::string> names = pendingNames(*hub);
    (names.empty() ? now : later).push_back(hub);
    pending.merge(names);
  }
  // Spoke changes on trusted devices first: each is a write of a few peers.
  for (const HubSpec* hub : pass.spoke_plans) {
    if (cancelled_.load()) return;
    HubRecord& record = records_.at(hub->port_id);
    auto actions = realizeSpokeChanges(*hub, record, pass.report);
    if (!actions.ok()) {
      log_.log(cancelled_.load() ? Severity::Info : Severity::Error,
               str("hub ", hub->port_id, ": ", actions.error().message));
      pass.report.failed.emplace(hub->port_id, actions.error().message);
      record.verified = false;  // read and planned in full on the retry
      record.pending.clear();
      continue;
    }
    pass.report.realized.push_back(hub->port_id);
  }
  for (const HubSpec* hub : now) {
    if (cancelled_.load()) return;
    realizeOne(*hub, pass);
  }
  if (!later.empty() && !cancelled_.load()) {
    resolver_.wait(pending, EndpointResolver::Clock::now() + options_.dns_wait_budget);
    for (const HubSpec* hub : later) {
      if (cancelled_.load()) return;
      realizeOne(*hub, pass);
    }
  }
  for (const auto& id : pass.decoded.invalid_hubs) {
    pass.report.failed.emplace(id, "the server's description of this hub is malformed");
  }
}

void Reconciler::realizeOne(const HubSpec& hub, Pass& pass) {
  HubRecord& record = records_.at(hub.port_id);
  record.verified = false;
  record.pending.clear();
  if (auto why = refusal(hub)) {
    if (options_.ignored_devices.count(deviceName(hub.port_id)) == 0)
      log_.error(str("hub ", hub.port_id, ": ", *why));
    pass.report.failed.emplace(hub.port_id, *why);
    return;
  }
  if (hub.ovn_plug && pass.host.ovs_unreadable) {
    const std::string why =
        str("its OVN plug needs the OVS integration bridge: ", pass.host.ovs_unreadable->message);
    log_.error(str("hub ", hub.port_id, ": ", why));
    pass.report.failed.emplace(hub.port_id, why);
    return;
  }
  if (hub.ovn_plug) {
    const DeviceObservation* l =
        pass.host.findPlugLink(plugPeerName(hub.ovn_plug->port_id), hubNamespace(hub, pass.host));
    if (l && l->unreadable) {
      log_.error(str("hub ", hub.port_id, ": ", l->unreadable->message));
      pass.report.failed.emplace(hub.port_id, l->unreadable->message);
      return;
    }
  }
  if (Status readable = handleUnreadable(hub, pass.host, pass.report); !readable.ok()) {
    log_.error(str("hub ", hub.port_id, ": ", readable.error().message));
    pass.report.failed.emplace(hub.port_id, readable.error().message);
    return;
  }
  auto actions = realize(hub, pass.host, pass.report);
  if (!actions.ok()) {
    // While the agent stops, its RPC calls fail on purpose: not an error worth an operator's look.
    log_.log(cancelled_.load() ? Severity::Info : Severity::Error,
             str("hub ", hub.port_id, ": ", actions.error().message));
    pass.report.failed.emplace(hub.port_id, actions.error().message);
    return;
  }
  pass.report.realized.push_back(hub.port_id);
  if (*actions == 0 && !applier_.dryRun()) {
    // Nothing to do: the device is as wanted; later quick passes only check that its link stays so.
    const DeviceObservation* d = pass.host.findDevice(deviceName(hub.port_id), hubNamespace(hub, pass.host));
    if (d) {
      record.verified = true;
      record.netns = d->netns;
      record.link = d->link;
      if (hub.ovn_plug) {
        const DeviceObservation* root = pass.host.findPlugLink(plugRootName(hub.ovn_plug->port_id), "");
        const DeviceObservation* peer = pass.host.findPlugLink(plugPeerName(hub.ovn_plug->port_id), d->netns);
        record.verified = root && peer;
        if (root) record.plug_root = root->link;
        if (peer) record.plug_peer = peer->link;
      }
    }
  }
}

Status Reconciler::handleUnreadable(const HubSpec& hub, HostObservation& host, PassReport& report) {
  const std::string ifname = deviceName(hub.port_id);
  auto unreadable = std::find_if(host.devices.begin(), host.devices.end(), [&](const DeviceObservation& d) {
    return d.link.name == ifname && d.unreadable;
  });
  if (unreadable == host.devices.end()) {
    read_failures_.erase(hub.port_id);
    return okStatus();
  }
  const Error cause = *unreadable->unreadable;
  const int failures = ++read_failures_[hub.port_id];
  if (failures < options_.replace_unreadable_after || !looksWedged(cause) || !identities_.find(hub.port_id)) {
    // Never treated as absent: re-creating a device that is only slow would cut its spokes off.
    return Error(str(cause.message, " (", failures, " pass(es) in a row; the device is left as it is)"),
                 cause.code);
  }
  // A device that has not answered for several passes is wedged (a stopped or hung wireguard-go):
  // replace it. Its identity is on disk, so the new one has the same key and port.
  log_.warning(str("hub ", hub.port_id, ": device ", describeDevice({unreadable->netns, ifname}),
                   " has not answered for ", failures, " passes (", cause.message,
                   "); replacing it with the same key and listen port"));
  Status destroyed = applier_.apply(DestroyDevice{{unreadable->netns, ifname}});
  ++report.actions;
  if (!destroyed.ok()) return std::move(destroyed).error().context("replace the unreadable device");
  read_failures_.erase(hub.port_id);
  host.devices.erase(unreadable);  // planned as absent now: created again below
  return okStatus();
}

bool Reconciler::stillAsVerified(const HubSpec& hub, const HostObservation& host) const {
  auto it = records_.find(hub.port_id);
  if (it == records_.end() || !it->second.verified) return false;
  const HubRecord& r = it->second;
  const DeviceObservation* d = host.findDevice(deviceName(hub.port_id), r.netns);
  // The link tells whether the device was re-created (index), moved, set down or given another MTU;
  // and the router namespace appearing or going away changes where the hub belongs.
  if (hub.ovn_plug) {
    // The plug's veth as it was verified (re-created, moved, set down or another MAC: plan in full).
    const DeviceObservation* root = host.findPlugLink(plugRootName(hub.ovn_plug->port_id), "");
    const DeviceObservation* peer = host.findPlugLink(plugPeerName(hub.ovn_plug->port_id), r.netns);
    if (!root || !root->netns.empty() || root->link != r.plug_root || !peer || peer->netns != r.netns ||
        peer->link != r.plug_peer) {
      return false;
    }
  }
  return d && d->netns == r.netns && d->link == r.link && hubNamespace(hub, host) == r.netns &&
         identities_.find(hub.port_id).has_value();
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
    return fail("state file ", identities_.pathOf(hub.port_id), " is unusable (",
                identities_.unreadable().at(hub.port_id),
                "); refusing to generate a new key: restore or remove the file");
  }
  HubIdentity identity;
  if (device_has_identity) {
    // The state directory lost this hub but the device still runs: adopt its identity, re-key nothing.
    identity = {*device->private_key, *device->listen_port};
  } else {
    std::set<uint16_t> taken = identities_.usedPorts();
    taken.merge(host_facts_.udpPortsInUse());
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

std::set<std::string> Reconciler::pendingNames(const HubSpec& hub) {
  std::set<std::string> names;
  std::set<std::string> pending;
  for (const auto& spoke : hub.spokes) {
    if (spoke.endpoint || !spoke.endpoint_name) continue;
    names.insert(spoke.endpoint_name->host);
    if (resolver_.query(spoke.endpoint_name->host).state == EndpointResolver::Answer::State::kPending) {
      pending.insert(spoke.endpoint_name->host);
    }
  }
  std::lock_guard lock(names_mu_);
  for (auto it = name_users_.begin(); it != name_users_.end();) {
    if (!names.count(it->first)) it->second.erase(hub.port_id);
    it = it->second.empty() ? name_users_.erase(it) : std::next(it);
  }
  for (const auto& name : names) name_users_[name].insert(hub.port_id);
  return pending;
}

void Reconciler::pendingNamesOf(const std::string& hub_id, const HubSpec& some_spokes) {
  std::lock_guard lock(names_mu_);
  for (const auto& spoke : some_spokes.spokes) {
    if (spoke.endpoint || !spoke.endpoint_name) continue;
    (void)resolver_.query(spoke.endpoint_name->host);
    name_users_[spoke.endpoint_name->host].insert(hub_id);  // forgotten at the hub's next full plan
  }
}

void Reconciler::noteEndpointProblem(const std::string& spoke_id, const std::string& problem) {
  auto [it, added] = endpoint_problems_.try_emplace(spoke_id, problem);
  if (!added && it->second == problem) return;  // said already: once per change, not every pass
  it->second = problem;
  log_.warning(str("spoke ", spoke_id, ": ", problem,
                   "; configured without an endpoint (the spoke can still "
                   "reach the hub itself)"));
}

std::optional<HubSpec> Reconciler::withUsableEndpoints(const HubSpec& hub) {
  std::vector<std::pair<size_t, std::optional<Endpoint>>> changes;  // spoke index, endpoint to use
  for (size_t i = 0; i < hub.spokes.size(); ++i) {
    const SpokeSpec& spoke = hub.spokes[i];
    std::optional<IpAddress> address;
    uint16_t port = 0;
    if (spoke.endpoint) {
      address = spoke.endpoint->address();
      port = spoke.endpoint->port();
    } else if (spoke.endpoint_name) {
      port = spoke.endpoint_name->port;
      auto answer = resolver_.query(spoke.endpoint_name->host);
      using State = EndpointResolver::Answer::State;
      if (answer.state == State::kResolved) {
        address = answer.address;
      } else if (answer.state == State::kFailed) {
        noteEndpointProblem(spoke.port_id, str("cannot resolve endpoint ", spoke.endpoint_name->host, " (",
                                               answer.error, ")"));
      }  // pending: configured without it until the answer comes (the resolver marks the hub dirty)
    }
    std::optional<Endpoint> usable;
    if (address) {
      if (auto why = options_.endpoint_policy.refusal(*address, node_addresses_)) {
        noteEndpointProblem(spoke.port_id, str("endpoint refused: ", *why));
      } else {
        endpoint_problems_.erase(spoke.port_id);
        usable = Endpoint(*address, port);
      }
    }
    if (usable != spoke.endpoint) changes.emplace_back(i, std::move(usable));
  }
  // Most hubs' spokes name no endpoint (they roam): the hub is used as it is, not copied.
  if (changes.empty()) return std::nullopt;
  HubSpec out = hub;
  for (auto& [i, endpoint] : changes) out.spokes[i].endpoint = std::move(endpoint);
  return out;
}

Result<size_t> Reconciler::realize(const HubSpec& named_hub, const HostObservation& host,
                                   PassReport& report) {
  const std::optional<HubSpec> usable = withUsableEndpoints(named_hub);
  const HubSpec& hub = usable ? *usable : named_hub;
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
      if (created && s.error().code == EADDRINUSE && !applier_.dryRun()) {
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

  NWG_RETURN_IF_ERROR(reportIdentity(hub, identity));
  report.peers += hub.spokes.size();
  return plan.actions.size();
}

Status Reconciler::reportIdentity(const HubSpec& hub, const HubIdentity& identity) {
  if (applier_.dryRun()) return okStatus();
  const std::string& public_key = publicKeyText(hub.port_id, identity.private_key);
  std::optional<std::string> endpoint = endpointFor(identity.listen_port);
  bool key_differs = hub.neutron_public_key != public_key;
  bool endpoint_differs = endpoint && hub.neutron_endpoint != endpoint;
  if (!key_differs && !endpoint_differs) return okStatus();
  Status s = server_.updateHubPort(hub.port_id, endpoint, public_key);
  if (!s.ok()) return std::move(s).error().context("report public key and endpoint to Neutron");
  reported_hub_port_.insert(hub.port_id);
  log_.info(str("hub ", hub.port_id, ": reported public key ", public_key, " and endpoint ",
                endpoint.value_or("(none: [wireguard] endpoint is not set)"), " to Neutron"));
  return okStatus();
}

Result<size_t> Reconciler::realizeSpokeChanges(const HubSpec& hub, HubRecord& record, PassReport& report) {
  auto identity = identities_.find(hub.port_id);
  if (!identity) return fail("no identity on record for a verified device");  // never: verified needs one
  // The changed spokes before (what the device has) and after (usable endpoints only), by port ID.
  HubSpec before;
  HubSpec after;
  std::set<std::string> changed;
  for (const auto& [id, old] : record.pending) {
    changed.insert(id);
    if (old) before.spokes.push_back(*old);
    if (const SpokeSpec* now = findSpoke(hub, id)) after.spokes.push_back(*now);
  }
  after.port_id = hub.port_id;
  pendingNamesOf(hub.port_id,
                 after);  // start lookups of new DNS names (the hub is synced again when they answer)
  if (auto usable = withUsableEndpoints(after)) after = std::move(*usable);
  PeerMemories& memory = peer_memory_[hub.port_id];
  HubPlan plan = planSpokeChanges(before, after, changed, {record.netns, deviceName(hub.port_id)}, &memory);
  for (const auto& action : plan.actions) {
    Status s = applier_.apply(action);
    ++report.actions;
    if (!s.ok()) return std::move(s).error();
  }
  for (const auto& old : before.spokes) memory.erase(old.public_key);
  for (const auto& spoke : after.spokes) {
    PeerMemory& m = memory[spoke.public_key];
    m.applied = spoke.endpoint;
    m.applied_known = true;
  }
  NWG_RETURN_IF_ERROR(reportIdentity(hub, *identity));
  record.pending.clear();  // the device is as `hub` wants again, without having been read
  report.peers += hub.spokes.size();
  return plan.actions.size();
}

// --- phase 4: what the server no longer lists ---------------------------------------------------

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
  if (ok && host.namespaces.count(ovnHubNamespace(port_id))) {
    if (removeHubNamespace(port_id, host, report)) {
      removed_something = true;
    } else {
      ok = false;
    }
  } else if (auto record = records_.find(port_id);
             ok && record != records_.end() && record->second.spec.ovn_plug) {
    // The namespace is gone already, but the plug's root end may remain (and its port).
    const std::string root = plugRootName(record->second.spec.ovn_plug->port_id);
    for (const Action& a : std::vector<Action>{DeleteOvsPort{root}, DestroyLink{{"", root}}}) {
      Status s = applier_.apply(a);
      ++report.actions;
      if (!s.ok()) {
        log_.warning(
            str("hub ", port_id, " was removed in Neutron but its plug could not be: ", s.error().message));
        ok = false;
      }
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
  read_failures_.erase(port_id);
  if (ok && removed_something) report.removed.push_back(port_id);
}

bool Reconciler::removeHubNamespace(const std::string& port_id, const HostObservation& host,
                                    PassReport& report) {
  const std::string ns = ovnHubNamespace(port_id);
  const std::string ifname = deviceName(port_id);
  auto seen = host.namespaces.find(ns);
  if (seen == host.namespaces.end()) return true;
  bool all_gone = true;
  for (const auto& d : host.devices) {
    // Another agent's device there: the namespace is that agent's (removeHub left the device).
    if (d.netns == ns && otherAgentsHost(d.link.alias, options_.planner.host)) all_gone = false;
  }
  for (const auto& l : host.plug_links) {
    if (l.netns != ns) continue;
    if (otherAgentsHost(l.link.alias, options_.planner.host) || options_.ignored_devices.count(l.link.name)) {
      all_gone = false;
      continue;
    }
    for (const Action& a :
         std::vector<Action>{DeleteOvsPort{plugRootOf(l.link.name)}, DestroyLink{{ns, l.link.name}}}) {
      Status s = applier_.apply(a);
      ++report.actions;
      if (!s.ok()) {
        log_.warning(
            str("hub ", port_id, " was removed in Neutron but its plug could not be: ", s.error().message));
        all_gone = false;
      }
    }
  }
  for (const auto& l : seen->second.links) {
    if (l != ifname && !isPlugLinkName(l)) all_gone = false;  // something not ours: keep the namespace
  }
  if (!all_gone) return false;
  Status s = applier_.apply(RemoveNamespace{ns});
  ++report.actions;
  if (!s.ok()) {
    log_.warning(s.error().message);
    return false;
  }
  return true;
}

void Reconciler::removeUnlisted(Pass& pass) {
  // A hub named in the request but absent from a successful answer is positively no longer ours.
  for (const auto& id : *pass.only) {
    bool listed =
        std::any_of(pass.hubs.begin(), pass.hubs.end(), [&](const HubSpec* h) { return h->port_id == id; }) ||
        std::count(pass.decoded.invalid_hubs.begin(), pass.decoded.invalid_hubs.end(), id) > 0;
    if (listed) continue;
    // Only a hub this agent holds a record or an identity of, by its exact ID: a notification may
    // name any port (another host's hub, a hostile ID sharing the first 11 characters of ours), and
    // the device name alone would match them.
    const bool ours = records_.count(id) || identities_.find(id) || identities_.unreadable().count(id);
    if (!ours) continue;
    removeHub(id, pass.host, pass.report);
    records_.erase(id);
  }
}

void Reconciler::cleanup(Pass& pass) {
  PassReport& report = pass.report;
  bool nothing_listed = pass.hubs.empty() && pass.decoded.invalid_hubs.empty();
  bool something_here = !pass.host.devices.empty() || !identities_.all().empty();
  if (nothing_listed && something_here && !empty_answer_pending_) {
    // Possibly a server that is not ready or a wrong `host`: keep everything until the next full
    // pass says the same.
    empty_answer_pending_ = true;
    log_.warning(
        "the server lists no hub for this host; keeping existing devices until the next full "
        "sync confirms");
    last_hub_count_ = report.realized.size();
    return;
  }
  empty_answer_pending_ = false;
  std::set<std::string> claimed;
  std::set<std::string> wanted_namespaces;
  for (const HubSpec* hub : pass.hubs) {
    claimed.insert(deviceName(hub->port_id));
    if (std::string target = hubNamespace(*hub, pass.host); !target.empty()) wanted_namespaces.insert(target);
  }
  std::set<std::string> claimed_plugs;
  for (const HubSpec* hub : pass.hubs) {
    if (!hub->ovn_plug) continue;
    claimed_plugs.insert(plugRootName(hub->ovn_plug->port_id));
    claimed_plugs.insert(plugPeerName(hub->ovn_plug->port_id));
  }
  for (const auto& id : pass.decoded.invalid_hubs) {
    claimed.insert(deviceName(id));
    wanted_namespaces.insert(ovnHubNamespace(id));  // whatever it holds is that hub's: untouched
  }
  CleanupPlan plan = planCleanup(pass.host, claimed, options_.ignored_devices, wanted_namespaces,
                                 options_.planner.host, claimed_plugs);
  if (!plan.foreign.empty()) {
    // INFO when the set changes, so that a second agent's devices do not repeat in every pass.
    std::string foreign = describeForeign(plan.foreign);
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
  for (const auto& action : plan.actions) {
    Status s = applier_.apply(action);
    ++report.actions;
    if (!s.ok()) log_.warning(s.error().message);
  }
  std::set<std::string> listed;
  for (const HubSpec* hub : pass.hubs) listed.insert(hub->port_id);
  listed.insert(pass.decoded.invalid_hubs.begin(), pass.decoded.invalid_hubs.end());
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
  for (auto it = read_failures_.begin(); it != read_failures_.end();) {
    it = listed.count(it->first) ? std::next(it) : read_failures_.erase(it);
  }
  {
    std::set<std::string> names;  // the DNS names still in use, re-resolved when stale
    std::lock_guard lock(names_mu_);
    for (auto it = name_users_.begin(); it != name_users_.end();) {
      for (auto u = it->second.begin(); u != it->second.end();)
        u = listed.count(*u) ? std::next(u) : it->second.erase(u);
      if (it->second.empty()) {
        it = name_users_.erase(it);
      } else {
        names.insert(it->first);
        ++it;
      }
    }
    resolver_.refresh(names);
  }
  last_hub_count_ = report.realized.size();
}

// --- what other threads see ------------------------------------------------------------------

std::shared_ptr<const RealizedHubs> Reconciler::realizedHubs() const {
  std::lock_guard lock(realized_mu_);
  return realized_snapshot_;
}

void Reconciler::publishRealized(const Pass& pass) {
  if (applier_.dryRun()) return;  // a dry run realizes nothing
  bool changed = false;
  std::map<std::string, const HubSpec*> listed;
  for (const HubSpec* hub : pass.hubs) listed.emplace(hub->port_id, hub);
  for (const auto& id : pass.report.realized) {
    auto spec = listed.find(id);
    if (spec == listed.end()) continue;
    const HubSpec& hub = *spec->second;
    wg::DeviceRef device{hubNamespace(hub, pass.host), deviceName(id)};
    auto& entry = realized_[id];
    // The same spokes (the hub's revision, or the server's digest from an older server) in the same
    // place: the entry stays, so that an idle quick pass publishes nothing and copies no spoke.
    const std::string version = hub.revision ? str("r", *hub.revision) : hub.digest;
    HubRecord& record = records_.at(id);
    if (entry && !version.empty() && entry->digest == version) {
      // The entry holds exactly these spokes (a full entry recorded again says nothing new).
      record.unpublished.emplace();
      if (entry->device == device) continue;
    }
    auto made = std::make_shared<RealizedHub>();
    made->port_id = hub.port_id;
    made->project_id = hub.project_id;
    made->network_id = hub.network_id;
    made->device = std::move(device);
    made->digest = version;
    // Only the chunks holding spokes changed since the last entry are copied: one change on a hub
    // of 10,000 spokes copies about a hundred of them, not all (docs/scale.md).
    made->spokes = entry && record.unpublished ? entry->spokes.with(hub.spokes, *record.unpublished)
                                               : RealizedSpokes::from(hub.spokes);
    record.unpublished.emplace();
    entry = std::move(made);
    changed = true;
  }
  // A hub that failed this pass keeps its entry (its device may work: its spokes' liveness and
  // metrics go on); one no longer this host's, or removed, goes.
  // An empty full answer is not believed before the next one confirms it (cleanup()): keep all.
  const bool doubtful = !pass.only && pass.hubs.empty() && empty_answer_pending_;
  const std::set<std::string> invalid(pass.decoded.invalid_hubs.begin(), pass.decoded.invalid_hubs.end());
  for (auto it = realized_.begin(); it != realized_.end();) {
    const bool asked = !pass.only || pass.only->count(it->first);
    const bool gone = asked && !doubtful && !listed.count(it->first) && !invalid.count(it->first);
    if (gone || std::count(pass.report.removed.begin(), pass.report.removed.end(), it->first)) {
      it = realized_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (!changed) return;
  auto snapshot = std::make_shared<RealizedHubs>();
  snapshot->reserve(realized_.size());
  for (const auto& [id, entry] : realized_) snapshot->push_back(entry);
  std::lock_guard lock(realized_mu_);
  realized_snapshot_ = std::move(snapshot);
}

// --- phase 5: tell Neutron ----------------------------------------------------------------------

void Reconciler::reportToNeutron(Pass& pass) {
  PassReport& report = pass.report;
  std::vector<std::string> up;
  std::vector<std::string> down;
  std::set<std::string> realized(report.realized.begin(), report.realized.end());
  for (const HubSpec* hub_ptr : pass.hubs) {
    const HubSpec& hub = *hub_ptr;
    bool ok = realized.count(hub.port_id) > 0;
    if (ok && hub.admin_state_up) {
      // After update_hub_port the hub is reported up again: drivers older than this agent's wrote
      // the key through the port's binding:profile, which reset the port to DOWN.
      if (hub.status != "ACTIVE" || reported_hub_port_.count(hub.port_id)) up.push_back(hub.port_id);
    } else if (hub.status != "DOWN") {
      down.push_back(hub.port_id);
    }
  }
  for (const auto& id : pass.decoded.invalid_hubs) down.push_back(id);  // a hub we cannot read is not usable
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

}  // namespace nwg::reconcile

// One reconcile pass: fetch the desired hubs from the server, read the host, plan each hub, apply,
// report to Neutron. Failures are isolated per hub (a device that cannot even be read fails its hub
// only). Nothing is ever deleted on doubt: only after the server positively stopped listing a hub in
// a successful answer (and an empty full answer is believed only when the next full pass confirms it).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "reconcile/applier.h"
#include "reconcile/endpoint_policy.h"
#include "reconcile/endpoint_resolver.h"
#include "reconcile/host_facts.h"
#include "reconcile/identity_store.h"
#include "reconcile/log_sink.h"
#include "reconcile/observer.h"
#include "reconcile/planner.h"
#include "reconcile/realized_hubs.h"
#include "reconcile/server_api.h"
#include "wireguard/key_hash.h"

namespace nwg::reconcile {

struct ReconcilerOptions {
  std::optional<IpAddress> advertised_address;  // [wireguard] endpoint; none: report no endpoint
  uint16_t listen_port_first = 51820;
  uint16_t listen_port_last = 52820;
  std::set<std::string> ignored_devices;
  PlannerOptions planner;
  // [wireguard] allow_root_device: hubs whose binding:profile asks for the agent's own namespace are
  // refused (reported DOWN) unless the operator allows it.
  bool allow_root_device = false;
  // Spoke endpoints the hub must not send to ([wireguard] denied_endpoint_cidrs and the fixed rules).
  EndpointPolicy endpoint_policy;
  // How long one pass waits, in all, for DNS names it has never seen resolved. Hubs without such
  // names are realized first, so a resolver that never answers delays no other hub.
  std::chrono::milliseconds dns_wait_budget{1000};
  // A device whose state cannot be read this many passes in a row (a wedged wireguard-go: timeouts,
  // broken connections) is destroyed and re-created with the same key and port.
  int replace_unreadable_after = 2;
  // At most this many spokes in one get_hubs answer or page (docs/scale.md): no message grows with a
  // hub or a host; larger hubs are read page by page.
  size_t spokes_per_answer = 2000;
  // Deep full syncs list the OVS integration bridge's "wgo-*" ports even with no OVN-routed hub in
  // sight, so that a plug port left behind (its veth gone) is removed. Set when ovs-vsctl is installed.
  bool ovs_cleanup = false;
};

struct PassReport {
  bool complete = false;                      // the server answered and the host could be read
  std::string failure;                        // why not, when !complete
  bool cancelled = false;                     // ended early because the agent is stopping (cancel())
  std::vector<std::string> realized;          // hub port IDs whose device is as wanted
  std::map<std::string, std::string> failed;  // hub port ID -> why (reported DOWN, retried)
  std::vector<std::string> removed;           // hub port IDs whose device and state were removed
  size_t actions = 0;                         // actions applied (in dry_run: logged)
  size_t peers = 0;                           // spokes configured on realized hubs
};

// A full pass reads everything (deep) or trusts what an earlier pass verified (quick): a quick pass
// sends the server the digests of the hubs it holds, and plans only the hubs that changed there or
// whose link no longer looks as it was left (moved, re-created, down, other MTU). Deep passes catch
// what a quick one cannot see (a peer or an address changed by hand, a forwarding sysctl).
enum class Depth { kQuick, kDeep };

class Reconciler {
 public:
  // `host_facts` answers what the reconciler needs to know about the node (UDP ports bound, its own
  // addresses); `resolver` resolves spoke endpoints given as DNS names. Both are seams wired by the
  // composition root (fakes in tests).
  Reconciler(ServerApi& server, Observer& observer, Applier& applier, IdentityStore& identities, LogSink& log,
             ReconcilerOptions options, HostFacts& host_facts, EndpointResolver& resolver);

  // A full sync: every hub of this host; unclaimed devices cleaned up.
  PassReport syncAll(Depth depth = Depth::kDeep);
  // Only these hubs (after a notification or a retry); those absent from the answer are removed.
  PassReport syncHubs(const std::set<std::string>& hub_ids);

  // From any thread: the pass in progress ends at its next hub (as a failed pass: nothing is removed
  // and nothing reported), and so does every later pass. For a prompt, clean stop.
  void cancel() { cancelled_.store(true); }

  // The number of hubs realized by the last full pass, for the heartbeat.
  size_t lastHubCount() const { return last_hub_count_; }

  // The hubs whose spokes name DNS host `name` as their endpoint (thread-safe).
  std::set<std::string> hubsUsingName(const std::string& name) const;
  // The resolver found another answer for `name` (thread-safe; its on_change calls it): the spokes
  // using it are re-planned at the next pass of their hubs, which it returns (to be marked dirty).
  std::set<std::string> nameChanged(const std::string& name);

  // The hubs realized and their spokes, as of the last pass that changed them (thread-safe: the
  // peer monitor reads the devices on its own schedule). Never null.
  std::shared_ptr<const RealizedHubs> realizedHubs() const;

 private:
  // What the agent knows of a hub between passes (docs/scale.md).
  struct HubRecord {
    HubSpec spec;  // as the server last described it (with its digest or revision; deltas applied)
    // Who has each public key among spec's spokes (deltas check a changed key against the others).
    std::unordered_map<Key, std::string, wg::KeyHash, wg::PublicKeyEqual> key_owner;
    // The device was exactly as `spec` wanted when a pass last verified it, but for the spokes in
    // `pending` (changed since, by deltas), each with the version the device still has (none: absent).
    bool verified = false;
    std::map<std::string, std::optional<SpokeSpec>> pending;
    std::string netns;  // where its link was when verified, and the link itself
    LinkInfo link;
    // The spokes changed since the hub's realized entry was last published (publishRealized copies
    // only their chunks); none: every spoke (a full entry was recorded since).
    std::optional<std::set<std::string>> unpublished;
    // An OVN-routed hub's plug links when verified (root end in the agent's namespace, the other in
    // `netns`).
    LinkInfo plug_root;
    LinkInfo plug_peer;
  };

  // The working state of one pass, handed from phase to phase.
  struct Pass {
    std::optional<std::set<std::string>> only;  // syncHubs: these hubs; syncAll: none
    bool quick = false;                         // trusted copies may stand for what the server says
    PassReport report;
    DecodedHubs decoded;
    std::vector<const HubSpec*> hubs;  // this host's hubs in the answer, as recorded (records_)
    HostObservation host;
    std::vector<const HubSpec*> to_plan;      // the full path: device read, whole plan
    std::vector<const HubSpec*> spoke_plans;  // trusted devices whose spokes changed: planSpokeChanges
  };

  PassReport run(const std::optional<std::set<std::string>>& only, Depth depth);
  // The phases of a pass, in order; a phase that returns false ends the pass (report.failure says why).
  bool fetch(Pass& pass);
  bool observe(Pass& pass);
  std::optional<std::set<std::string>> trustedNamespaces(const Pass& pass) const;
  bool readHost(Pass& pass, const std::set<std::string>* only_in);
  void realizeAll(Pass& pass);
  void removeUnlisted(Pass& pass);
  void cleanup(Pass& pass);
  void reportToNeutron(Pass& pass);

  bool stillAsVerified(const HubSpec& hub, const HostObservation& host) const;
  // Records a full entry; applies a delta (false when it does not apply to what the agent holds).
  void recordFull(HubSpec hub);
  bool recordDelta(HubDelta delta, std::vector<DecodeProblem>& problems);
  // Reads the rest of a hub's spokes page by page, then the changes made meanwhile (a delta since
  // the first page). An error leaves the hub unknown: it is read in full next pass.
  Status completeHub(const std::string& hub_id, std::string marker, std::optional<uint64_t> base,
                     std::vector<DecodeProblem>& problems);
  void applyPage(HubRecord& record, SpokePage page, std::vector<DecodeProblem>& problems);
  // Spoke changes on a trusted device: plans and applies only their peers.
  Result<size_t> realizeSpokeChanges(const HubSpec& hub, HubRecord& record, PassReport& report);
  Status reportIdentity(const HubSpec& hub, const HubIdentity& identity);
  const std::string& publicKeyText(const std::string& port_id, const Key& private_key);
  Result<HubIdentity> identityFor(const HubSpec& hub, const HostObservation& host, bool& created);
  // Why this hub cannot be realized on this node at all (policy), or nothing.
  std::optional<std::string> refusal(const HubSpec& hub) const;
  // A device of this hub that could not be read: fails the hub, or replaces a wedged device.
  Status handleUnreadable(const HubSpec& hub, HostObservation& host, PassReport& report);
  // Plans and applies one hub; on success returns the number of actions it took.
  Result<size_t> realize(const HubSpec& hub, const HostObservation& host, PassReport& report);
  void realizeOne(const HubSpec& hub, Pass& pass);
  void removeHub(const std::string& port_id, const HostObservation& host, PassReport& report);
  // The plugs in a removed hub's namespace (OVS port and veth), then the namespace; false when
  // something stays.
  bool removeHubNamespace(const std::string& port_id, const HostObservation& host, PassReport& report);
  std::optional<std::string> endpointFor(uint16_t listen_port) const;
  // Updates what is realized after a pass and publishes it when it changed (realizedHubs()).
  void publishRealized(const Pass& pass);
  // The DNS names among a hub's spoke endpoints that have no answer yet (starts their lookups).
  std::set<std::string> pendingNames(const HubSpec& hub);
  // For spokes of a delta only: starts their lookups and notes the hub as their user.
  void pendingNamesOf(const std::string& hub_id, const HubSpec& some_spokes);
  // The hub with every spoke endpoint the hub may send to: DNS names resolved where known, endpoints
  // that the endpoint policy refuses dropped (the spoke is then configured without one); nullopt
  // when that is the hub as it is (no copy of a big hub for nothing).
  std::optional<HubSpec> withUsableEndpoints(const HubSpec& hub);
  void noteEndpointProblem(const std::string& spoke_id, const std::string& problem);

  ServerApi& server_;
  Observer& observer_;
  Applier& applier_;
  IdentityStore& identities_;
  LogSink& log_;
  ReconcilerOptions options_;
  HostFacts& host_facts_;
  EndpointResolver& resolver_;

  std::map<std::string, PeerMemories> peer_memory_;                 // per hub
  std::map<std::string, HubRecord> records_;                        // per hub
  std::map<std::string, std::pair<Key, std::string>> public_keys_;  // hub -> (private key, public base64)
  std::set<std::string> reported_hub_port_;   // hubs whose key/endpoint this pass reported to Neutron
  std::map<std::string, int> read_failures_;  // hub -> passes in a row its device could not be read
  std::set<IpAddress> node_addresses_;        // this pass's addresses of the node (endpoint policy)
  std::map<std::string, std::string> endpoint_problems_;  // spoke -> last problem logged (log changes only)
  bool empty_answer_pending_ = false;  // a full answer listed no hub while devices exist: await the next
  std::string last_foreign_;  // the other agents' devices last reported by a cleanup (logged on change)
  size_t last_hub_count_ = 0;

  // Hubs realized (kept while a pass fails them: their device may well work), and their snapshot.
  std::map<std::string, std::shared_ptr<const RealizedHub>> realized_;
  mutable std::mutex realized_mu_;
  std::shared_ptr<const RealizedHubs> realized_snapshot_ = std::make_shared<const RealizedHubs>();

  std::atomic<bool> cancelled_{false};
  mutable std::mutex names_mu_;
  std::map<std::string, std::set<std::string>> name_users_;  // DNS name -> hubs whose spokes use it
  std::set<std::string> changed_names_;  // names with a new answer, for the next pass to re-plan
};

}  // namespace nwg::reconcile

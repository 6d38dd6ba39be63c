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

  // The hubs whose spokes name DNS host `name` as their endpoint (thread-safe: the resolver's
  // on_change asks it to mark them dirty).
  std::set<std::string> hubsUsingName(const std::string& name) const;

  // The hubs realized and their spokes, as of the last pass that changed them (thread-safe: the
  // peer monitor reads the devices on its own schedule). Never null.
  std::shared_ptr<const RealizedHubs> realizedHubs() const;

 private:
  // What the agent knows of a hub between passes.
  struct HubRecord {
    HubSpec spec;           // as last decoded (with the server's digest)
    bool verified = false;  // the last pass planned nothing: the device was exactly as wanted
    std::string netns;      // where its link was then, and the link itself
    LinkInfo link;
  };

  // The working state of one pass, handed from phase to phase.
  struct Pass {
    std::optional<std::set<std::string>> only;  // syncHubs: these hubs; syncAll: none
    bool quick = false;
    PassReport report;
    DecodedHubs decoded;
    std::vector<HubSpec> hubs;        // the hubs of this host in the answer (stubs replaced by our copy)
    std::set<std::string> unchanged;  // hubs the server says did not change since our copy
    HostObservation host;
    std::vector<const HubSpec*> to_plan;
  };

  PassReport run(const std::optional<std::set<std::string>>& only, Depth depth);
  // The phases of a pass, in order; a phase that returns false ends the pass (report.failure says why).
  bool fetch(Pass& pass);
  bool observe(Pass& pass);
  void realizeAll(Pass& pass);
  void removeUnlisted(Pass& pass);
  void cleanup(Pass& pass);
  void reportToNeutron(Pass& pass);

  bool stillAsVerified(const HubSpec& hub, const HostObservation& host) const;
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
  std::optional<std::string> endpointFor(uint16_t listen_port) const;
  // Updates what is realized after a pass and publishes it when it changed (realizedHubs()).
  void publishRealized(const Pass& pass);
  // The DNS names among a hub's spoke endpoints that have no answer yet (starts their lookups).
  std::set<std::string> pendingNames(const HubSpec& hub);
  // The hub with every spoke endpoint the hub may send to: DNS names resolved where known, endpoints
  // that the endpoint policy refuses dropped (the spoke is then configured without one).
  HubSpec withUsableEndpoints(const HubSpec& hub);
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
};

}  // namespace nwg::reconcile

// One reconcile pass: fetch the desired hubs from the server, read the host, plan each hub, apply,
// report to Neutron. Failures are isolated per hub. Nothing is ever deleted on doubt: only after the
// server positively stopped listing a hub in a successful answer (and an empty full answer is believed
// only when the next full pass confirms it).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "reconcile/applier.h"
#include "reconcile/identity_store.h"
#include "reconcile/log_sink.h"
#include "reconcile/observer.h"
#include "reconcile/planner.h"
#include "reconcile/server_api.h"

namespace nwg::reconcile {

struct ReconcilerOptions {
  std::optional<IpAddress> advertised_address;  // [wireguard] endpoint; none: report no endpoint
  uint16_t listen_port_first = 51820;
  uint16_t listen_port_last = 52820;
  std::set<std::string> ignored_devices;
  PlannerOptions planner;
  // Resolves a spoke endpoint's DNS name (default: getaddrinfo, first address, as wg(8) does).
  std::function<Result<IpAddress>(const std::string& host)> resolve;
};

struct PassReport {
  bool complete = false;                      // the server answered and the host could be read
  std::string failure;                        // why not, when !complete
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
  // `udp_ports_in_use` lists the UDP ports bound in the agent's namespace (so a new hub's listen port
  // avoids them); tests pass a fake.
  Reconciler(ServerApi& server, Observer& observer, Applier& applier, IdentityStore& identities, LogSink& log,
             ReconcilerOptions options, std::function<std::set<uint16_t>()> udp_ports_in_use);

  // A full sync: every hub of this host; unclaimed devices cleaned up.
  PassReport syncAll(Depth depth = Depth::kDeep);
  // Only these hubs (after a notification or a retry); those absent from the answer are removed.
  PassReport syncHubs(const std::set<std::string>& hub_ids);

  // The number of hubs realized by the last full pass, for the heartbeat.
  size_t lastHubCount() const { return last_hub_count_; }

 private:
  // What the agent knows of a hub between passes.
  struct HubRecord {
    HubSpec spec;           // as last decoded (with the server's digest)
    bool verified = false;  // the last pass planned nothing: the device was exactly as wanted
    std::string netns;      // where its link was then, and the link itself
    LinkInfo link;
  };

  PassReport run(const std::optional<std::set<std::string>>& only, Depth depth);
  bool stillAsVerified(const HubSpec& hub, const HostObservation& host) const;
  const std::string& publicKeyText(const std::string& port_id, const Key& private_key);
  Result<HubIdentity> identityFor(const HubSpec& hub, const HostObservation& host, bool& created);
  // Plans and applies one hub; on success returns the number of actions it took.
  Result<size_t> realize(const HubSpec& hub, const HostObservation& host, PassReport& report);
  void removeHub(const std::string& port_id, const HostObservation& host, PassReport& report);
  void reportToNeutron(const std::vector<HubSpec>& hubs, const std::vector<std::string>& invalid,
                       PassReport& report);
  std::optional<std::string> endpointFor(uint16_t listen_port) const;
  // Fills in endpoints given as DNS names (once per name and pass; a failure leaves the spoke without).
  HubSpec withResolvedEndpoints(const HubSpec& hub);

  ServerApi& server_;
  Observer& observer_;
  Applier& applier_;
  IdentityStore& identities_;
  LogSink& log_;
  ReconcilerOptions options_;
  std::function<std::set<uint16_t>()> udp_ports_in_use_;

  std::map<std::string, PeerMemories> peer_memory_;                 // per hub
  std::map<std::string, HubRecord> records_;                        // per hub
  std::map<std::string, std::pair<Key, std::string>> public_keys_;  // hub -> (private key, public base64)
  std::set<std::string> reported_hub_port_;  // hubs whose key/endpoint this pass reported to Neutron
  std::map<std::string, std::optional<IpAddress>> resolved_;  // this pass's DNS answers
  bool empty_answer_pending_ = false;  // a full answer listed no hub while devices exist: await the next
  std::string last_foreign_;  // the other agents' devices last reported by a cleanup (logged on change)
  size_t last_hub_count_ = 0;
};

// The first address getaddrinfo gives for `host` (numeric or DNS name).
Result<IpAddress> resolveHostName(const std::string& host);

// The UDP ports bound in the calling process's network namespace (/proc/net/udp and udp6).
std::set<uint16_t> udpPortsInUse();
// Parses the text of /proc/net/udp or /proc/net/udp6 (pure, for tests).
std::set<uint16_t> parseProcNetUdp(std::string_view text);

}  // namespace nwg::reconcile

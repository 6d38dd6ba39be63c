// The desired state of one hub, decoded from the server's get_hubs answer (docs/rpc.md). Decoding is
// strict: a malformed hub is set aside with a reason (never realized, never deleted), a malformed spoke
// is left out of its hub with a reason, and a malformed answer as a whole is an error.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip.h"
#include "base/result.h"
#include "keys/key.h"

namespace nwg::reconcile {

// A spoke endpoint given as a DNS name ("spoke.example.net:51820"), resolved by the reconciler at each
// pass (WireGuard itself only takes addresses).
struct EndpointName {
  std::string host;
  uint16_t port = 0;
  bool operator==(const EndpointName&) const = default;
};

struct SpokeSpec {
  std::string port_id;
  Key public_key;
  std::optional<Endpoint> endpoint;           // absent: the hub learns it from the spoke's handshakes
  std::optional<EndpointName> endpoint_name;  // to resolve into `endpoint`
  std::vector<IpPrefix> allowed_ips;          // the spoke's fixed IPs as /32 and /128
  bool operator==(const SpokeSpec&) const = default;
};

// One fixed IP of an OVN plug port (docs/agent.md, OVN-routed hubs): the plug's address on one of the
// hub's subnets, and the OVN router's address there (the hub's own fixed IP, which the router's port owns).
struct OvnPlugIp {
  IpAddress ip_address;
  IpPrefix cidr;  // the subnet, masked
  IpAddress router_ip;
  bool operator==(const OvnPlugIp&) const = default;
};

// The Neutron port that plugs an OVN-routed hub's namespace into the integration bridge (get_hubs'
// "ovn_plug", docs/rpc.md).
struct OvnPlug {
  std::string port_id;
  std::string mac_address;           // lower case, "fa:16:3e:00:00:01"
  std::vector<OvnPlugIp> fixed_ips;  // at least one; sorted by address
  bool operator==(const OvnPlug&) const = default;
};

struct HubSpec {
  std::string port_id;
  std::string digest;  // the server's digest of this hub's entry (opaque; "" if it sent none)
  // The hub's revision (get_hubs 1.6, docs/scale.md): counts changes to its spokes; absent from older
  // servers.
  std::optional<uint64_t> revision;
  std::string project_id;
  std::string network_id;
  bool admin_state_up = true;
  std::string status;                             // as Neutron has it: ACTIVE, DOWN, BUILD, ...
  std::optional<std::string> neutron_public_key;  // what Neutron has in binding:profile
  std::optional<std::string> neutron_endpoint;
  bool root_device = false;
  uint32_t network_mtu = 0;              // 0 when Neutron did not say
  std::optional<std::string> router_id;  // attached to this router
  std::vector<IpPrefix> addresses;       // fixed IPs with their subnet's prefix length
  std::optional<OvnPlug> ovn_plug;       // set: the hub is routed by an OVN router (its own namespace)
  std::vector<SpokeSpec> spokes;         // ordered by port ID
  bool operator==(const HubSpec&) const = default;
};

// Something in the answer that was set aside, and why (logged once by the caller).
struct DecodeProblem {
  std::string port_id;  // the hub (or spoke) concerned, "" if unknown
  std::string reason;
};

// A hub the server says is unchanged since the digest the agent sent (get_hubs 1.4).
struct UnchangedHub {
  std::string port_id;
  std::string digest;
};

// A hub that came as a delta since the revision the agent holds (get_hubs 1.6): `hub` has the hub's
// own fields, its revision now, and as spokes only those added or changed since `base_revision`.
struct HubDelta {
  HubSpec hub;
  uint64_t base_revision = 0;
  std::vector<std::string> removed_spokes;
};

struct DecodedHubs {
  std::vector<HubSpec> hubs;            // ordered by port ID
  std::vector<UnchangedHub> unchanged;  // listed, same as the agent's copy
  std::vector<HubDelta> deltas;         // listed, as changes to the agent's copy
  // Hubs (full or delta) whose spokes did not all fit in the answer: hub ID -> the last spoke ID
  // sent, where get_hub_spokes goes on.
  std::map<std::string, std::string> spokes_next;
  std::vector<std::string> invalid_hubs;  // hubs present but unusable: report DOWN, touch nothing
  std::vector<DecodeProblem> problems;
};

Result<DecodedHubs> decodeHubs(const nlohmann::json& answer);

// One page of get_hub_spokes (1.6).
struct SpokePage {
  uint64_t revision = 0;
  std::vector<SpokeSpec> spokes;  // ordered by port ID
  std::vector<std::string> removed_spokes;
  std::optional<std::string> spokes_next;
};
Result<SpokePage> decodeSpokePage(const nlohmann::json& answer, std::vector<DecodeProblem>& problems);

// Applies spoke changes to a hub (insert or replace by port ID, keeping the order; remove), and
// returns the IDs of the spokes it changed. O(changes × log spokes) plus the vector's moves.
// The spoke of `hub` with that port ID (its spokes are ordered by port ID), or where it would go.
std::vector<SpokeSpec>::const_iterator spokePosition(const HubSpec& hub, std::string_view port_id);
const SpokeSpec* findSpoke(const HubSpec& hub, std::string_view port_id);

std::set<std::string> applySpokeChanges(HubSpec& hub, std::vector<SpokeSpec> upserts,
                                        const std::vector<std::string>& removed);
// Leaves out every spoke that shares its public key with another (they would fight over one
// WireGuard peer), with a problem each; returns the IDs left out.
std::set<std::string> dropSpokesSharingKeys(HubSpec& hub, std::vector<DecodeProblem>& problems);
// True when two specs of one hub want the same device apart from its peers: namespace, addresses,
// MTU, admin state, OVN plug (the hub's own fields that change the device).
bool sameDeviceFields(const HubSpec& a, const HubSpec& b);

// "fa:16:3e:00:00:01": six octets of two hex digits, lower-cased; nullopt when malformed (or multicast).
std::optional<std::string> parseMacAddress(std::string_view text);

// "name:port" with a valid DNS host name (RFC 1123 labels) and a port 1-65535.
std::optional<EndpointName> parseEndpointName(std::string_view text);

}  // namespace nwg::reconcile

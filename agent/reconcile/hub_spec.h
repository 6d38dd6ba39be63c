// The desired state of one hub, decoded from the server's get_hubs answer (docs/rpc.md). Decoding is
// strict: a malformed hub is set aside with a reason (never realized, never deleted), a malformed spoke
// is left out of its hub with a reason, and a malformed answer as a whole is an error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

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
  std::optional<Endpoint> endpoint;   // absent: the hub learns it from the spoke's handshakes
  std::optional<EndpointName> endpoint_name;  // to resolve into `endpoint`
  std::vector<IpPrefix> allowed_ips;  // the spoke's fixed IPs as /32 and /128
  bool operator==(const SpokeSpec&) const = default;
};

struct HubSpec {
  std::string port_id;
  std::string digest;  // the server's digest of this hub's entry (opaque; "" if it sent none)
  std::string project_id;
  std::string network_id;
  bool admin_state_up = true;
  std::string status;                            // as Neutron has it: ACTIVE, DOWN, BUILD, ...
  std::optional<std::string> neutron_public_key;  // what Neutron has in binding:profile
  std::optional<std::string> neutron_endpoint;
  bool root_device = false;
  uint32_t network_mtu = 0;                // 0 when Neutron did not say
  std::optional<std::string> router_id;    // attached to this router
  std::vector<IpPrefix> addresses;         // fixed IPs with their subnet's prefix length
  std::vector<SpokeSpec> spokes;           // ordered by port ID
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

struct DecodedHubs {
  std::vector<HubSpec> hubs;            // ordered by port ID
  std::vector<UnchangedHub> unchanged;  // listed, same as the agent's copy
  std::vector<std::string> invalid_hubs;  // hubs present but unusable: report DOWN, touch nothing
  std::vector<DecodeProblem> problems;
};

Result<DecodedHubs> decodeHubs(const nlohmann::json& answer);

// "name:port" with a valid DNS host name (RFC 1123 labels) and a port 1-65535.
std::optional<EndpointName> parseEndpointName(std::string_view text);

}  // namespace nwg::reconcile

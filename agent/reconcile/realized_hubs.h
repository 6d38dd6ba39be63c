// What the reconciler has realized, as it hands it to readers on other threads (the peer monitor:
// spoke liveness and per-peer metrics): each hub's device, its Neutron identities and its spokes.
// Published as an immutable snapshot after every pass; a hub whose spec and place did not change
// keeps its entry (the same pointer), so publishing costs a few pointer copies per pass.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/ip.h"
#include "keys/key.h"
#include "wireguard/backend.h"

namespace nwg::reconcile {

struct RealizedSpoke {
  std::string port_id;
  Key public_key;
  std::vector<IpPrefix> allowed_ips;
};

struct RealizedHub {
  std::string port_id;
  std::string project_id;
  std::string network_id;
  wg::DeviceRef device;               // where the pass left it
  std::vector<RealizedSpoke> spokes;  // ordered by port ID
  std::string digest;                 // the server's digest of the spec this entry was made from
};

using RealizedHubs = std::vector<std::shared_ptr<const RealizedHub>>;  // ordered by hub port ID

}  // namespace nwg::reconcile

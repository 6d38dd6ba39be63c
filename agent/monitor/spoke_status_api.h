// What the peer monitor needs from neutron-server: update_spoke_status (q-wireguard 1.5,
// docs/rpc.md). The daemon implements it over RPC; unit tests use a scripted fake.
#pragma once

#include <string>
#include <vector>

#include "monitor/liveness.h"

namespace nwg::monitor {

class SpokeStatusApi {
 public:
  enum class Outcome {
    kAccepted,
    kFailed,       // retried at the next reading
    kUnsupported,  // a server older than 1.5: the agent stops reporting for a while
  };
  struct Answer {
    Outcome outcome = Outcome::kAccepted;
    std::string error;  // when not accepted
  };

  virtual ~SpokeStatusApi() = default;
  virtual Answer updateSpokeStatus(const std::vector<SpokeReport>& reports) = 0;
};

}  // namespace nwg::monitor

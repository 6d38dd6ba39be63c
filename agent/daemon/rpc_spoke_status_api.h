// The peer monitor's view of neutron-server: update_spoke_status (q-wireguard 1.5) over RPC. A
// server older than 1.5 answers UnsupportedVersion, which the monitor takes as "not supported
// (yet)": it stops reporting and asks again later (the agent works on without spoke status).
#pragma once

#include <string>

#include "monitor/spoke_status_api.h"
#include "rpc/neutron/wireguard_server_api.h"

namespace nwg::daemon {

class RpcSpokeStatusApi final : public monitor::SpokeStatusApi {
 public:
  RpcSpokeStatusApi(rpc::RpcCaller& rpc, const std::string& host) : wireguard_(rpc, host) {}

  Answer updateSpokeStatus(const std::vector<monitor::SpokeReport>& reports) override;

 private:
  rpc::WireguardServerApi wireguard_;
};

}  // namespace nwg::daemon

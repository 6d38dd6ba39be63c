// report_state (neutron/agent/rpc.py PluginReportStateAPI, neutron/db/agents_db.py report_state).
#include "rpc/neutron/state_reporter.h"

#include "rpc/uuid.h"
#include "rpc/wire_time.h"

namespace nwg::rpc {

std::string_view agentStatusName(AgentStatus status) {
  switch (status) {
    case AgentStatus::kNew:
      return "new";
    case AgentStatus::kAlive:
      return "alive";
    case AgentStatus::kRevived:
      return "revived";
    case AgentStatus::kStale:
      return "stale";
  }
  return "unknown";
}

nlohmann::json StateReporter::buildArgs(const nlohmann::json& configurations,
                                        std::chrono::system_clock::time_point now) const {
  nlohmann::json state = {
      {"binary", options_.binary},
      {"host", options_.host},
      {"topic", options_.topic},
      {"configurations", configurations.is_object() ? configurations : nlohmann::json::object()},
      {"agent_type", options_.agent_type},
      {"uuid", newUuidString()},
  };
  if (options_.availability_zone) state["availability_zone"] = *options_.availability_zone;
  if (!registered_) {
    state["start_flag"] = true;
    state["resource_versions"] = options_.resource_versions;
  }
  // The nesting agent_state.agent_state is what neutron sends and expects.
  return nlohmann::json{{"agent_state", {{"agent_state", state}}}, {"time", formatUtcTime(now, 'T')}};
}

RpcResult<AgentStatus> StateReporter::report(const nlohmann::json& configurations,
                                             std::chrono::system_clock::time_point now) {
  const RpcTarget target(options_.rpc_topic, kVersion);
  auto answer = rpc_.call(target, "report_state", buildArgs(configurations, now), options_.timeout);
  if (!answer.ok()) return std::move(answer).error();
  const nlohmann::json& r = *answer;
  AgentStatus status;
  // Compared as a std::string: json == "literal" builds a temporary json, whose inlined construction
  // GCC 12 at -O3 misreads (-Warray-bounds); get_ptr is null unless the answer is a string.
  const auto* answer_text = r.get_ptr<const std::string*>();
  if (r.is_null()) {
    status = AgentStatus::kStale;
  } else if (answer_text && *answer_text == "new") {
    status = AgentStatus::kNew;
  } else if (answer_text && *answer_text == "alive") {
    status = AgentStatus::kAlive;
  } else if (answer_text && *answer_text == "revived") {
    status = AgentStatus::kRevived;
  } else {
    return RpcError{RpcErrorKind::kMalformedReply,
                    str(options_.rpc_topic, ".report_state: unexpected answer ", r.dump().substr(0, 100)),
                    {}};
  }
  registered_ = true;
  return status;
}

}  // namespace nwg::rpc

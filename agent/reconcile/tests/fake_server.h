// A scripted neutron-server and a captured log for reconcile tests.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "reconcile/log_sink.h"
#include "reconcile/server_api.h"
#include "keys/key.h"

namespace nwg::reconcile::fakes {

using nlohmann::json;

inline const std::string kProject = "p1";

// A scripted neutron-server: answers get_hubs from `hubs` (or fails), records what the agent reports.
class FakeServer : public ServerApi {
 public:
  Result<json> getHubs(const std::optional<std::vector<std::string>>& ids,
                       const std::map<std::string, std::string>* digests = nullptr) override {
    std::lock_guard<std::mutex> lock(mu);
    ++get_calls;
    requests.push_back(ids);
    sent_digests.push_back(digests != nullptr);
    if (fail_next) {
      fail_next = false;
      return Error("Timeout: no reply in 60 s");
    }
    if (malformed_next) {
      malformed_next = false;
      return json{{"hubz", json::array()}};
    }
    json out = json::array();
    for (const auto& [id, hub] : hubs) {
      if (ids && std::find(ids->begin(), ids->end(), id) == ids->end()) continue;
      // As the driver does (get_hubs 1.4): a digest of the entry; a stub when the agent holds it.
      json entry = hub;
      std::string digest = std::to_string(std::hash<std::string>{}(entry.dump()));
      if (digests && digests->count(id) && digests->at(id) == digest) {
        out.push_back({{"id", id}, {"digest", digest}, {"unchanged", true}});
        ++stubs;
        continue;
      }
      entry["digest"] = digest;
      out.push_back(entry);
    }
    return json{{"hubs", out}};
  }
  Status updateHubPort(const std::string& port_id, const std::optional<std::string>& endpoint,
                       const std::string& public_key) override {
    std::lock_guard<std::mutex> lock(mu);
    reported_keys[port_id] = public_key;
    reported_endpoints[port_id] = endpoint.value_or("");
    hubs[port_id]["public_key"] = public_key;
    hubs[port_id]["endpoint"] = endpoint ? json(*endpoint) : json();
    // The driver stores them in its own table: the port stays bound and keeps its status (the
    // contract scenarios check this against the real driver).
    ++writes;
    return okStatus();
  }
  Status updateDeviceList(const std::vector<std::string>& up, const std::vector<std::string>& down) override {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& id : up) {
      hubs[id]["status"] = "ACTIVE";
      last_up.push_back(id);
    }
    for (const auto& id : down) {
      if (hubs.count(id)) hubs[id]["status"] = "DOWN";
      last_down.push_back(id);
    }
    ++writes;
    return okStatus();
  }

  static json hub(const std::string& id, const std::string& ip) {
    return {{"id", id},          {"project_id", kProject}, {"network_id", "n1"}, {"admin_state_up", true},
            {"status", "DOWN"},  {"public_key", nullptr},  {"endpoint", nullptr}, {"root_device", false},
            {"mtu", 1450},       {"router_id", nullptr},
            {"fixed_ips", {{{"ip_address", ip}, {"subnet_id", "s1"}, {"cidr", "10.10.0.0/24"}}}},
            {"spokes", json::array()}};
  }
  static json spoke(const std::string& id, const Key& key, const std::string& ip) {
    return {{"id", id}, {"public_key", key.toBase64()}, {"endpoint", nullptr},
            {"fixed_ips", {{{"ip_address", ip}, {"subnet_id", "s1"}}}}};
  }

  // What get_hubs was asked, in order (nullopt: a full sync).
  std::vector<std::optional<std::vector<std::string>>> requests;
  std::vector<bool> sent_digests;  // per request: whether the agent sent digests
  int stubs = 0;                   // hubs answered as unchanged stubs
  std::mutex mu;
  std::map<std::string, json> hubs;
  bool fail_next = false;
  bool malformed_next = false;
  int get_calls = 0;
  int writes = 0;
  std::map<std::string, std::string> reported_keys;
  std::map<std::string, std::string> reported_endpoints;
  std::vector<std::string> last_up;
  std::vector<std::string> last_down;
};

class CapturedLog : public LogSink {
 public:
  void log(Severity s, std::string_view m) override {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(s, std::string(m));
  }
  bool contains(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mu);
    return std::any_of(lines.begin(), lines.end(), [&](const auto& l) { return l.second.find(needle) != std::string::npos; });
  }
  std::mutex mu;
  std::vector<std::pair<Severity, std::string>> lines;
};

}  // namespace nwg::reconcile::fakes

// A scripted neutron-server and a captured log for reconcile tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "keys/key.h"
#include "reconcile/log_sink.h"
#include "reconcile/server_api.h"

namespace nwg::reconcile::fakes {

using nlohmann::json;

inline const std::string kProject = "p1";

// A scripted neutron-server: answers get_hubs from `hubs` (or fails), records what the agent reports.
class FakeServer : public ServerApi {
 public:
  // get_hubs as the driver answers it: every entry with its digest (1.4) and revision (1.6); stubs
  // for matching digests (when `revisions_supported` is false, as a 1.4 driver); deltas for the
  // revisions the agent holds; at most spokes_limit spokes per answer, the rest by get_hub_spokes.
  // The revision of a hub counts the changes of its spokes the fake has seen (a snapshot of the
  // spokes is kept per revision, so that any delta can be computed), whatever way a test made them.
  Result<json> getHubs(const HubsQuery& query) override {
    std::lock_guard<std::mutex> lock(mu);
    ++get_calls;
    requests.push_back(query.hub_ids);
    const bool trusted = revisions_supported ? !query.revisions.empty() : !query.digests.empty();
    sent_digests.push_back(trusted);
    if (fail_next) {
      fail_next = false;
      return Error("Timeout: no reply in 60 s");
    }
    if (malformed_next) {
      malformed_next = false;
      return json{{"hubz", json::array()}};
    }
    json out = json::array();
    size_t budget = revisions_supported ? query.spokes_limit : SIZE_MAX;
    for (const auto& [id, hub] : hubs) {
      if (query.hub_ids &&
          std::find(query.hub_ids->begin(), query.hub_ids->end(), id) == query.hub_ids->end()) {
        continue;
      }
      // As the driver does (get_hubs 1.4): a digest of the entry; a stub when the agent holds it.
      json entry = hub;
      std::string digest = std::to_string(std::hash<std::string>{}(entry.dump()));
      if (!revisions_supported) {
        if (query.digests.count(id) && query.digests.at(id) == digest) {
          out.push_back({{"id", id}, {"digest", digest}, {"unchanged", true}});
          ++stubs;
          continue;
        }
        entry["digest"] = digest;
        out.push_back(entry);
        continue;
      }
      const uint64_t revision = currentRevision(id, hub);
      entry["revision"] = revision;
      auto base = query.revisions.find(id);
      if (base != query.revisions.end() && history_[id].count(base->second)) {
        auto [changed, removed] = changesSince(id, base->second);
        entry["base_revision"] = base->second;
        entry["removed_spokes"] = removed;
        entry["spokes"] = json::array();
        std::string last;
        for (const auto& spoke : changed) {
          if (budget == 0) break;
          entry["spokes"].push_back(spoke);
          last = spoke["id"];
          --budget;
        }
        if (entry["spokes"].size() < changed.size()) entry["spokes_next"] = last;
        if (changed.empty() && removed.empty()) ++stubs;
        ++deltas;
        out.push_back(entry);
        continue;
      }
      entry["digest"] = digest;
      json spokes = sortedSpokes(hub);
      entry["spokes"] = json::array();
      std::string last;
      for (const auto& spoke : spokes) {
        if (budget == 0) break;
        entry["spokes"].push_back(spoke);
        last = spoke["id"];
        --budget;
      }
      if (entry["spokes"].size() < spokes.size()) entry["spokes_next"] = last;
      out.push_back(entry);
    }
    return json{{"hubs", out}};
  }
  Result<json> getHubSpokes(const std::string& hub_id, const std::string& marker, size_t limit,
                            std::optional<uint64_t> base) override {
    std::lock_guard<std::mutex> lock(mu);
    ++page_calls;
    if (on_page) on_page(hubs);  // a change between two pages
    auto hub = hubs.find(hub_id);
    if (hub == hubs.end()) return Error("RemoteError: no such hub");
    const uint64_t revision = currentRevision(hub_id, hub->second);
    json page = {{"revision", revision}, {"spokes", json::array()}, {"removed_spokes", json::array()}};
    json spokes;
    if (base) {
      if (!history_[hub_id].count(*base)) return Error("RemoteError: revision too old");
      auto [changed, removed] = changesSince(hub_id, *base);
      spokes = changed;
      for (const auto& id : removed) {
        if (id > marker) page["removed_spokes"].push_back(id);
      }
    } else {
      spokes = sortedSpokes(hub->second);
    }
    std::string last;
    size_t left = 0;
    for (const auto& spoke : spokes) {
      if (spoke["id"].get<std::string>() <= marker) continue;
      if (page["spokes"].size() < limit) {
        page["spokes"].push_back(spoke);
        last = spoke["id"];
      } else {
        ++left;
      }
    }
    page["spokes_next"] = left ? json(last) : json();
    return page;
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
    return {{"id", id},
            {"project_id", kProject},
            {"network_id", "n1"},
            {"admin_state_up", true},
            {"status", "DOWN"},
            {"public_key", nullptr},
            {"endpoint", nullptr},
            {"root_device", false},
            {"mtu", 1450},
            {"router_id", nullptr},
            {"fixed_ips", {{{"ip_address", ip}, {"subnet_id", "s1"}, {"cidr", "10.10.0.0/24"}}}},
            {"spokes", json::array()}};
  }
  static json spoke(const std::string& id, const Key& key, const std::string& ip) {
    return {{"id", id},
            {"public_key", key.toBase64()},
            {"endpoint", nullptr},
            {"fixed_ips", {{{"ip_address", ip}, {"subnet_id", "s1"}}}}};
  }

  // What get_hubs was asked, in order (nullopt: a full sync).
  std::vector<std::optional<std::vector<std::string>>> requests;
  std::vector<bool> sent_digests;   // per request: whether the agent sent what it holds (digests, revisions)
  int stubs = 0;                    // hubs answered as unchanged (stubs, or deltas without changes)
  int deltas = 0;                   // hubs answered as deltas
  int page_calls = 0;               // get_hub_spokes calls
  bool revisions_supported = true;  // false: a 1.4 driver (digests and stubs, no revisions or paging)
  std::function<void(std::map<std::string, json>&)> on_page;  // called at each get_hub_spokes
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

 private:
  static json sortedSpokes(const json& hub) {
    json spokes = hub.contains("spokes") && hub["spokes"].is_array() ? hub["spokes"] : json::array();
    std::sort(spokes.begin(), spokes.end(), [](const json& a, const json& b) { return a["id"] < b["id"]; });
    return spokes;
  }
  // The hub's revision: a new one whenever its spokes differ from the last snapshot.
  uint64_t currentRevision(const std::string& id, const json& hub) {
    auto& history = history_[id];
    json spokes = sortedSpokes(hub);
    if (history.empty() || history.rbegin()->second != spokes) {
      const uint64_t next = history.empty() ? 1 : history.rbegin()->first + 1;
      history[next] = spokes;
    }
    return history.rbegin()->first;
  }
  // Spokes added or changed since `base` (sorted by ID) and the IDs removed since.
  std::pair<json, std::vector<std::string>> changesSince(const std::string& id, uint64_t base) {
    const json& then = history_[id].at(base);
    const json& now = history_[id].rbegin()->second;
    std::map<std::string, json> before;
    for (const auto& s : then) before[s["id"]] = s;
    json changed = json::array();
    std::set<std::string> present;
    for (const auto& s : now) {
      present.insert(s["id"]);
      auto it = before.find(s["id"]);
      if (it == before.end() || it->second != s) changed.push_back(s);
    }
    std::vector<std::string> removed;
    for (const auto& [sid, s] : before) {
      if (!present.count(sid)) removed.push_back(sid);
    }
    return {changed, removed};
  }
  std::map<std::string, std::map<uint64_t, json>> history_;  // hub -> revision -> its sorted spokes
};

class CapturedLog : public LogSink {
 public:
  void log(Severity s, std::string_view m) override {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(s, std::string(m));
  }
  bool contains(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mu);
    return std::any_of(lines.begin(), lines.end(),
                       [&](const auto& l) { return l.second.find(needle) != std::string::npos; });
  }
  std::mutex mu;
  std::vector<std::pair<Severity, std::string>> lines;
};

}  // namespace nwg::reconcile::fakes

// Keeps FakeServer honest: the scenarios of tests/contract/get_hubs_scenarios.json, which the server
// layer also runs against the real driver in a real neutron-server
// (networking_wireguard/tests/functional/test_fake_server_contract.py). A behaviour of get_hubs that
// the fake gets wrong (digests, stubs, what the agent's own reports change) fails here or there.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "keys/key.h"
#include "reconcile/tests/fake_server.h"

namespace nwg::reconcile {
namespace {

using fakes::FakeServer;
using nlohmann::json;

json scenarios() {
  std::ifstream in(NWG_CONTRACT_DIR "/get_hubs_scenarios.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str())["scenarios"];
}

// Plays one scenario on a FakeServer, the way the Python runner plays it on Neutron.
class ScenarioPlayer {
 public:
  // Scenarios are get_hubs 1.4's (digests) unless they say "version": "1.6" (revisions, paging).
  explicit ScenarioPlayer(bool v16) : v16_(v16) { server_.revisions_supported = v16; }

  void step(const json& s) {
    const std::string what = s["do"];
    if (what == "create_hub") {
      const std::string id = idOf(s["name"]);
      server_.hubs[id] = FakeServer::hub(id, str("10.10.0.", ++addresses_));
    } else if (what == "create_spoke") {
      const std::string id = idOf(s["name"]);
      for (const auto& hub : s["hubs"]) {
        server_.hubs[idOf(hub)]["spokes"].push_back(
            FakeServer::spoke(id, publicKeyOf(generatePrivateKey()), str("10.10.0.", ++addresses_)));
      }
    } else if (what == "delete") {
      const std::string id = idOf(s["name"]);
      server_.hubs.erase(id);
      for (auto& [hub_id, hub] : server_.hubs) {
        auto& spokes = hub["spokes"];
        for (auto it = spokes.begin(); it != spokes.end();)
          it = (*it)["id"] == id ? spokes.erase(it) : std::next(it);
      }
    } else if (what == "set_spoke_endpoint") {
      const std::string id = idOf(s["name"]);
      for (auto& [hub_id, hub] : server_.hubs) {
        for (auto& spoke : hub["spokes"]) {
          if (spoke["id"] == id) spoke["endpoint"] = s["endpoint"];
        }
      }
    } else if (what == "update_hub_port") {
      const std::string id = idOf(s["name"]);
      ASSERT_TRUE(server_.updateHubPort(id, "203.0.113.1:51820", hubKey(id)).ok());
    } else if (what == "device_up") {
      ASSERT_TRUE(server_.updateDeviceList({idOf(s["name"])}, {}).ok());
    } else if (what == "get_hubs") {
      getHubs(s);
    } else {
      FAIL() << "unknown step " << what;
    }
  }

 private:
  std::string idOf(const std::string& name) {
    auto [it, added] = ids_.try_emplace(name, "");
    if (added)
      it->second = str("c0ffee00-0000-0000-0000-", std::string(12 - std::to_string(ids_.size()).size(), '0'),
                       ids_.size());
    names_[it->second] = name;
    return it->second;
  }
  std::string hubKey(const std::string& id) {
    auto [it, added] = hub_keys_.try_emplace(id, "");
    if (added) it->second = publicKeyOf(generatePrivateKey()).toBase64();
    return it->second;
  }

  void getHubs(const json& s) {
    std::optional<std::vector<std::string>> ids;
    if (s.contains("hubs") && !s["hubs"].is_null()) {
      ids.emplace();
      for (const auto& name : s["hubs"]) ids->push_back(idOf(name));
    }
    const bool send = s.value("digests", "none") == "remembered";
    HubsQuery query;
    query.hub_ids = ids;
    query.spokes_limit = 1000;
    if (send && v16_) query.revisions = remembered_revisions_;
    if (send && !v16_) query.digests = remembered_;
    auto answer = server_.getHubs(query);
    ASSERT_TRUE(answer.ok());
    std::set<std::string> full, stubs, deltas;
    const json& expect = s["expect"];
    for (const auto& hub : (*answer)["hubs"]) {
      const std::string name = names_.at(hub["id"]);
      if (hub.value("unchanged", false)) {
        stubs.insert(name);
        continue;
      }
      (hub.contains("base_revision") ? deltas : full).insert(name);
      if (s.value("remember", false)) {
        if (hub.contains("digest")) remembered_[hub["id"]] = hub["digest"];
        if (hub.contains("revision")) remembered_revisions_[hub["id"]] = hub["revision"];
      }
      if (expect.contains("removed") && expect["removed"].contains(name)) {
        std::set<std::string> removed;
        for (const auto& id : hub.value("removed_spokes", json::array())) removed.insert(names_.at(id));
        EXPECT_EQ(removed, expect["removed"][name].get<std::set<std::string>>()) << "removed from " << name;
      }
      if (expect.contains("spokes") && expect["spokes"].contains(name)) {
        std::set<std::string> spokes;
        for (const auto& spoke : hub["spokes"]) spokes.insert(names_.at(spoke["id"]));
        EXPECT_EQ(spokes, expect["spokes"][name].get<std::set<std::string>>()) << "spokes of " << name;
      }
      if (expect.contains("status") && expect["status"].contains(name)) {
        EXPECT_EQ(hub["status"], expect["status"][name]) << "status of " << name;
      }
      for (const auto& spoke : hub["spokes"]) {
        const std::string spoke_name = names_.at(spoke["id"]);
        if (expect.contains("endpoints") && expect["endpoints"].contains(spoke_name)) {
          EXPECT_EQ(spoke["endpoint"], expect["endpoints"][spoke_name]) << "endpoint of " << spoke_name;
        }
      }
    }
    if (expect.contains("full")) {
      EXPECT_EQ(full, expect["full"].get<std::set<std::string>>()) << "answered in full";
    }
    if (expect.contains("stubs")) {
      EXPECT_EQ(stubs, expect["stubs"].get<std::set<std::string>>()) << "answered as stubs";
    }
    if (expect.contains("deltas")) {
      EXPECT_EQ(deltas, expect["deltas"].get<std::set<std::string>>()) << "answered as deltas";
    }
    if (expect.contains("reported")) {
      for (const auto& name : expect["reported"]) {
        for (const auto& hub : (*answer)["hubs"]) {
          if (hub["id"] != idOf(name)) continue;
          EXPECT_TRUE(hub["public_key"].is_string() && hub["endpoint"].is_string())
              << name << " lacks its report";
        }
      }
    }
  }

  FakeServer server_;
  std::map<std::string, std::string> ids_;    // name -> port ID
  std::map<std::string, std::string> names_;  // port ID -> name
  std::map<std::string, std::string> hub_keys_;
  std::map<std::string, std::string> remembered_;  // port ID -> digest
  std::map<std::string, uint64_t> remembered_revisions_;
  bool v16_ = false;
  int addresses_ = 1;
};

TEST(FakeServerContract, BehavesAsTheDriverInEveryScenario) {
  ASSERT_TRUE(initCrypto().ok());
  const json all = scenarios();
  ASSERT_FALSE(all.empty());
  for (const auto& scenario : all) {
    SCOPED_TRACE(scenario["name"].get<std::string>());
    ScenarioPlayer player(scenario.value("version", "1.4") == "1.6");
    int n = 0;
    for (const auto& step : scenario["steps"]) {
      SCOPED_TRACE(str("step ", ++n, ": ", step.dump()));
      player.step(step);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace nwg::reconcile

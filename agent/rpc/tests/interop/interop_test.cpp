// Interop: the C++ RPC client against a real RabbitMQ and real Python oslo.messaging 14 peers (Debian's
// python3-oslo.messaging), in both directions, and across a broker restart. Needs NWG_TEST_TRANSPORT_URL
// (scripts/test interop sets it to a fresh vhost). Topic names carry runToken(): colleagues share the broker.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "config/transport_url.h"
#include "private_broker.h"
#include "python_peer.h"
#include "rpc/amqp_connection.h"
#include "rpc/envelope.h"
#include "rpc/neutron/hub_notification_consumer.h"
#include "rpc/neutron/plugin_api.h"
#include "rpc/neutron/state_reporter.h"
#include "rpc/neutron/wireguard_server_api.h"
#include "rpc/request_context.h"
#include "rpc/rpc_client.h"
#include "rpc/rpc_request.h"
#include "rpc/uuid.h"
#include "testing/testing.h"

namespace nwg::rpc {
namespace {

using interop::PrivateBroker;
using interop::PythonPeer;
using nlohmann::json;
using namespace std::chrono_literals;

// Polls `cond` every 20 ms until it holds or `limit` passes (conditions, not durations, are asserted).
template <typename Cond>
bool eventually(Cond cond, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return cond();
}

class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = testing::env("NWG_TEST_TRANSPORT_URL");
    NWG_REQUIRE(!url_.empty(),
                "NWG_TEST_TRANSPORT_URL (a RabbitMQ vhost URL; `scripts/test interop` sets it)");
    NWG_REQUIRE(std::filesystem::exists("/usr/bin/python3") &&
                    std::filesystem::exists("/usr/lib/python3/dist-packages/oslo_messaging"),
                "Debian's python3-oslo.messaging under /usr/bin/python3");
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    topic_ = "nwg-it-" + testing::runToken() + "-" + name.substr(0, 24);
    server_ = "srv-" + testing::runToken();
  }

  RpcClientOptions options(const std::string& url) const {
    RpcClientOptions o;
    auto parsed = config::TransportUrl::parse(url);
    EXPECT_TRUE(parsed.ok());
    if (parsed.ok()) o.transport_url = *parsed;
    o.host = "agent-" + testing::runToken();
    o.default_timeout = 30s;
    o.rabbit.rabbit_retry_interval = 1;
    o.rabbit.rabbit_retry_backoff = 0;
    return o;
  }

  std::unique_ptr<RpcClient> connectedClient(const std::string& url) {
    auto c = std::make_unique<RpcClient>(options(url));
    EXPECT_TRUE(c->start().ok());
    EXPECT_TRUE(c->waitConnected(30s)) << "cannot connect to " << url;
    return c;
  }

  std::unique_ptr<PythonPeer> startServer(const std::string& url, const std::string& topic) {
    auto peer = PythonPeer::spawn({"server", url, topic, server_});
    EXPECT_TRUE(peer.ok());
    if (!peer.ok()) return nullptr;
    auto line = (*peer)->readLine(60s);
    EXPECT_TRUE(line.ok() && *line == "READY") << (line.ok() ? *line : line.error().message);
    return std::move(peer).value();
  }

  RpcTarget target(const std::string& version = "1.2") const { return RpcTarget(topic_, version); }

  std::string url_, topic_, server_;
};

TEST_F(InteropTest, CallsAnOsloServerWithEveryJsonType) {
  auto peer = startServer(url_, topic_);
  ASSERT_TRUE(peer);
  auto client = connectedClient(url_);
  const json values[] = {
      json{{"a", {{"b", {1, 2.5, nullptr, true, "x"}}}}},
      json::array(),
      json::array({json::array(), json::object(), 0, -1, 9007199254740993LL}),
      json(nullptr),
      json("unicode h\xC3\xBC"
           "b \xE2\x9C\x93 \xF0\x9F\x94\x91 \"quoted\" \\ \n tab\t"),
      json(false),
      json(3.25),
  };
  for (const auto& v : values) {
    auto r = client->call(target(), "echo", {{"value", v}});
    ASSERT_TRUE(r.ok()) << v.dump() << ": " << r.error().message;
    EXPECT_EQ(*r, v);
  }
  auto d = client->call(target(), "get_dict", {{"a", 1}, {"b", 2}});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ((*d)["sum"], 3);
  // The server saw our flattened admin context (plus its own client_timeout).
  for (const char* key :
       {"is_admin", "request_id", "timestamp", "roles", "user_identity", "client_timeout"}) {
    EXPECT_NE(std::find((*d)["ctxt_keys"].begin(), (*d)["ctxt_keys"].end(), key), (*d)["ctxt_keys"].end())
        << key;
  }
  // neutron_lib's Context.from_dict accepts it as an admin context with our request id.
  auto ctx = client->call(target(), "check_context", json::object());
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  EXPECT_EQ((*ctx)["is_admin"], true);
  EXPECT_EQ((*ctx)["request_id"].get<std::string>().rfind("req-", 0), 0u);
}

TEST_F(InteropTest, FiveMegabytePayloadsBothWays) {
  auto peer = startServer(url_, topic_);
  ASSERT_TRUE(peer);
  auto client = connectedClient(url_);
  const size_t five_mb = 5 * 1024 * 1024;
  std::string blob(five_mb, 'x');
  for (size_t i = 0; i < blob.size(); i += 4096) blob[i] = static_cast<char>('a' + (i / 4096) % 26);
  auto size = client->call(target(), "size_of", {{"blob", blob}});
  ASSERT_TRUE(size.ok()) << size.error().message;
  EXPECT_EQ(*size, five_mb);
  auto made = client->call(target(), "make_blob", {{"size", five_mb}});
  ASSERT_TRUE(made.ok()) << made.error().message;
  ASSERT_TRUE(made->is_string());
  EXPECT_EQ(made->get_ref<const std::string&>(), std::string(five_mb, 'y'));
}

TEST_F(InteropTest, RemoteFailuresAreTyped) {
  auto peer = startServer(url_, topic_);
  ASSERT_TRUE(peer);
  auto client = connectedClient(url_);

  auto wg = client->call(target(), "raise_error", {{"code", 7}});
  ASSERT_FALSE(wg.ok());
  EXPECT_EQ(wg.error().kind, RpcErrorKind::kRemoteError);
  ASSERT_TRUE(wg.error().remote.has_value());
  EXPECT_EQ(wg.error().remote->class_name, "WgError");
  EXPECT_EQ(wg.error().remote->module, "__main__");
  EXPECT_EQ(wg.error().remote->message, "WireGuard peer p1 failed with code 7");
  EXPECT_EQ(wg.error().remote->kwargs, (json{{"peer", "p1"}, {"code", 7}}));
  EXPECT_FALSE(wg.error().remote->traceback.empty());

  auto value = client->call(target(), "raise_value_error", json::object());
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.error().remote->class_name, "ValueError");
  EXPECT_EQ(value.error().remote->module, "builtins");
  EXPECT_EQ(value.error().remote->message, "bad value 42");

  auto missing = client->call(target(), "no_such_method", json::object());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, RpcErrorKind::kNoSuchMethod);
  EXPECT_EQ(missing.error().remote->message, "Endpoint does not support RPC method no_such_method");

  auto version = client->call(target("2.0"), "echo", {{"value", 1}});
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().kind, RpcErrorKind::kUnsupportedVersion);
  EXPECT_EQ(version.error().remote->message,
            "Endpoint does not support RPC version 2.0. Attempted method: echo");
}

TEST_F(InteropTest, CallMonitorHeartbeatsAreTolerated) {
  auto peer = startServer(url_, topic_);
  ASSERT_TRUE(peer);
  auto client = connectedClient(url_);
  RpcTarget monitored = target();
  monitored.call_monitor_timeout = 2;  // the server sends a heartbeat reply every second while it sleeps
  auto r = client->call(monitored, "slow", {{"secs", 3}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "slept");  // not the null result of a heartbeat
}

// With a 2 s heartbeat the broker closes a connection that stays silent for about 4 s: an idle client
// keeps its connection only if its I/O thread sends heartbeats on its own.
TEST_F(InteropTest, IdleConnectionSurvivesOnHeartbeats) {
  auto peer = startServer(url_, topic_);
  ASSERT_TRUE(peer);
  RpcClientOptions o = options(url_);
  o.rabbit.heartbeat_timeout_threshold = 2;
  RpcClient client(o);
  ASSERT_TRUE(client.start().ok());
  ASSERT_TRUE(client.waitConnected(30s));
  std::this_thread::sleep_for(10s);  // idle for five heartbeat timeouts
  EXPECT_TRUE(client.connected());
  EXPECT_EQ(client.reconnects(), 0u);
  auto r = client.call(target(), "echo", {{"value", "still here"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "still here");
  EXPECT_EQ(client.reconnects(), 0u);
}

TEST_F(InteropTest, TimesOutWhenNobodyListens) {
  auto client = connectedClient(url_);
  auto r = client->call(target(), "echo", {{"value", 1}}, 1500ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, RpcErrorKind::kTimeout) << r.error().message;
  EXPECT_NE(r.error().message.find(topic_ + ".echo"), std::string::npos) << r.error().message;
  // The client still works afterwards.
  auto peer = startServer(url_, topic_);
  ASSERT_TRUE(peer);
  auto ok = client->call(target(), "echo", {{"value", 2}});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(*ok, 2);
}

TEST_F(InteropTest, DirectedCallsCastsAndFanoutCastsReachTheOsloServer) {
  auto peer = startServer(url_, topic_);
  ASSERT_TRUE(peer);
  auto client = connectedClient(url_);
  RpcTarget directed = target();
  directed.server = server_;
  auto r = client->call(directed, "echo", {{"value", "directed"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "directed");

  ASSERT_TRUE(client->cast(target(), "record", {{"k", 1}}).ok());
  ASSERT_TRUE(client->cast(directed, "record", {{"k", 2}}).ok());
  RpcTarget fanout = target();
  fanout.fanout = true;
  ASSERT_TRUE(client->cast(fanout, "record", {{"k", 3}}).ok());
  json recorded;
  EXPECT_TRUE(eventually([&] {
    auto got = client->call(target(), "recorded", json::object());
    if (got.ok()) recorded = *got;
    return got.ok() && recorded.size() == 3;
  })) << recorded.dump();
  std::set<int> ks;
  for (const auto& c : recorded) ks.insert(c["k"].get<int>());
  EXPECT_EQ(ks, (std::set<int>{1, 2, 3}));
}

TEST_F(InteropTest, TheirFanoutCastReachesOurHubNotificationConsumer) {
  std::mutex mu;
  std::vector<std::optional<std::vector<std::string>>> got;
  HubNotificationConsumer consumer([&](const auto& ids) {
    std::lock_guard lock(mu);
    got.push_back(ids);
  });
  auto client = connectedClient(url_);
  ASSERT_TRUE(client->subscribe(topic_, consumer.dispatcher()).ok());
  const std::string hub = newUuidString();  // hub_ids are Neutron port IDs (anything else is dropped)
  const std::string hub2 = newUuidString();
  auto sent = PythonPeer::run({"cast", url_, topic_, "hubs_changed", json{{"hub_ids", {hub, hub2}}}.dump(),
                               "--fanout", "--version", "1.0"},
                              60s);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  ASSERT_EQ((*sent)["sent"], true) << sent->dump();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return !got.empty();
  }));
  std::lock_guard lock(mu);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], (std::vector<std::string>{hub, hub2}));
}

TEST_F(InteropTest, TheirCallsToOurServer) {
  RpcEndpoint endpoint;
  endpoint.version = "1.1";
  endpoint.methods["add"] = [](const json&, const json& args) {
    return MethodOutcome(args["a"].get<int>() + args["b"].get<int>());
  };
  endpoint.methods["echo"] = [](const json&, const json& args) { return MethodOutcome(args["value"]); };
  endpoint.methods["fail"] = [](const json&, const json&) {
    return MethodOutcome(RemoteError::make("WgAgentError", "networking_wireguard.agent", "boom"));
  };
  std::atomic<int> casts{0};
  endpoint.methods["note"] = [&casts](const json&, const json&) {
    ++casts;
    return MethodOutcome(nullptr);
  };
  auto client = connectedClient(url_);
  ASSERT_TRUE(
      client->subscribe(topic_, std::make_shared<RpcDispatcher>(std::vector<RpcEndpoint>{endpoint})).ok());

  auto call = [&](const std::string& method, const json& args, std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"call", url_, topic_, method, args.dump(), "--timeout", "20"};
    a.insert(a.end(), extra.begin(), extra.end());
    auto r = PythonPeer::run(a, 90s);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : json();
  };
  EXPECT_EQ(call("add", {{"a", 2}, {"b", 3}}, {"--version", "1.0"}), (json{{"result", 5}}));
  const json unicode = {{"k", "\xC3\xA9t\xC3\xA9 \xE2\x9C\x93"}, {"l", {1, nullptr, true}}};
  EXPECT_EQ(call("echo", {{"value", unicode}}), (json{{"result", unicode}}));
  const json failed = call("fail", json::object());
  EXPECT_EQ(failed["error"], "WgAgentError") << failed.dump();
  EXPECT_EQ(failed["value"].get<std::string>().rfind("boom", 0), 0u) << failed.dump();
  EXPECT_EQ(call("nope", json::object())["error"], "NoSuchMethod");
  EXPECT_EQ(call("echo", {{"value", 1}}, {"--version", "1.2"})["error"], "UnsupportedVersion");
  // Directed at our host queue, and a fanout cast.
  EXPECT_EQ(call("echo", {{"value", "host"}}, {"--server", "agent-" + testing::runToken()}),
            (json{{"result", "host"}}));
  auto cast = PythonPeer::run({"cast", url_, topic_, "note", "{}", "--fanout"}, 60s);
  ASSERT_TRUE(cast.ok());
  EXPECT_TRUE(eventually([&] { return casts.load() == 1; }));
}

TEST_F(InteropTest, DuplicateUniqueIdsAreDropped) {
  std::atomic<int> seen{0};
  RpcEndpoint endpoint;
  endpoint.methods["note"] = [&seen](const json&, const json&) {
    ++seen;
    return MethodOutcome(nullptr);
  };
  std::atomic<bool> barrier{false};
  endpoint.methods["barrier"] = [&barrier](const json&, const json&) {
    barrier = true;
    return MethodOutcome(nullptr);
  };
  auto client = connectedClient(url_);
  ASSERT_TRUE(
      client->subscribe(topic_, std::make_shared<RpcDispatcher>(std::vector<RpcEndpoint>{endpoint})).ok());

  // Publish raw messages ourselves: the same _unique_id twice, then a fresh one.
  const auto url = *config::TransportUrl::parse(url_);
  AmqpConnectOptions o;
  o.host = url.hosts()[0].host;
  o.port = url.hosts()[0].portOr(5672);
  o.username = url.hosts()[0].username;
  o.password = url.hosts()[0].password;
  o.vhost = url.virtualHost();
  auto conn = AmqpConnection::open(o);
  ASSERT_TRUE(conn.ok()) << conn.error().message;
  RpcRequest r;
  r.method = "note";
  r.unique_id = newUuidHex();
  r.context = RequestContext::admin();
  const std::string body = Envelope::encode(r.toInner());
  ASSERT_TRUE((*conn)->publish("neutron", topic_, body, false, std::nullopt).ok());
  ASSERT_TRUE((*conn)->publish("neutron", topic_, body, false, std::nullopt).ok());
  r.unique_id = newUuidHex();
  ASSERT_TRUE((*conn)->publish("neutron", topic_, Envelope::encode(r.toInner()), false, std::nullopt).ok());
  // A last fresh message is the barrier: the queue is FIFO and served by one thread, so once it ran,
  // the duplicate before it has been handled (dropped).
  r.method = "barrier";
  r.unique_id = newUuidHex();
  ASSERT_TRUE((*conn)->publish("neutron", topic_, Envelope::encode(r.toInner()), false, std::nullopt).ok());
  ASSERT_TRUE(eventually([&] { return barrier.load(); }));
  EXPECT_EQ(seen.load(), 2);
}

TEST_F(InteropTest, ConcurrentCallsFromManyThreads) {
  auto peer = startServer(url_, topic_);
  ASSERT_TRUE(peer);
  auto client = connectedClient(url_);
  std::atomic<int> good{0}, bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const json v = {{"thread", t}, {"i", i}};
        auto r = client->call(target(), "echo", {{"value", v}});
        (r.ok() && *r == v ? good : bad)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 200);
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(InteropTest, NeutronApisAgainstNeutronsArgumentHandling) {
  auto peer = startServer(url_, topic_);
  ASSERT_TRUE(peer);
  auto client = connectedClient(url_);
  StateReporterOptions ro;
  ro.host = "agent-" + testing::runToken();
  ro.rpc_topic = topic_;  // the stand-in serves report_state on the test's topic
  StateReporter reporter(*client, ro);
  auto first = reporter.report({{"hubs", 0}});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, AgentStatus::kNew);
  EXPECT_EQ(*reporter.report({{"hubs", 1}}), AgentStatus::kAlive);
  EXPECT_EQ(*reporter.report({{"simulate", "revived"}}), AgentStatus::kRevived);

  PluginApi plugin(*client, ro.host, "wireguard-agent-" + ro.host, 20, topic_);
  std::vector<std::string> up;
  for (int i = 0; i < 25; ++i) up.push_back("port-" + std::to_string(i));
  auto list = plugin.updateDeviceList(up, {"gone"});
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(list->devices_up, up);
  ASSERT_EQ(list->devices_down.size(), 1u);
  EXPECT_EQ(list->devices_down[0].device, "gone");
  EXPECT_TRUE(list->devices_down[0].exists);
}

// get_hubs 1.4 (digests) to a driver that serves only 1.3: oslo refuses it with UnsupportedVersion,
// which the agent uses to fall back to a 1.3 call.
TEST_F(InteropTest, GetHubsWithDigestsAgainstAnOlderDriver) {
  auto peer = PythonPeer::spawn({"wireguard-v13", url_, topic_, server_});
  ASSERT_TRUE(peer.ok());
  auto ready = (*peer)->readLine(60s);
  ASSERT_TRUE(ready.ok() && *ready == "READY");
  auto client = connectedClient(url_);
  WireguardServerApi api(*client, "agent-host", topic_);
  const std::map<std::string, std::string> digests{{"hub-1", std::string(64, '0')}};
  auto refused = api.getHubs(std::nullopt, &digests);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, RpcErrorKind::kUnsupportedVersion) << refused.error().message;
  auto all = api.getHubs();
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ((*all)["hubs"].size(), 2u);
  EXPECT_EQ((*all)["asked_by"], "agent-host");
  auto some = api.getHubs(std::vector<std::string>{"hub-2", "gone"});
  ASSERT_TRUE(some.ok()) << some.error().message;
  ASSERT_EQ((*some)["hubs"].size(), 1u);
  EXPECT_EQ((*some)["hubs"][0]["id"], "hub-2");
}

TEST_F(InteropTest, FailsOverToTheNextHostOfAMultiHostUrl) {
  auto parsed = config::TransportUrl::parse(url_);
  ASSERT_TRUE(parsed.ok());
  const auto& h = parsed->hosts()[0];
  // Port 1 on loopback refuses connections; the real broker is the other host.
  const std::string multi = "rabbit://guest:guest@127.0.0.1:1," + h.username + ":" + h.password + "@" +
                            h.host + ":" + std::to_string(h.portOr(5672)) + "/" + parsed->virtualHost();
  auto peer = startServer(url_, topic_);
  ASSERT_TRUE(peer);
  RpcClientOptions o = options(multi);
  o.shuffle_hosts = false;  // the refusing host is tried first
  RpcClient client(o);
  ASSERT_TRUE(client.start().ok());
  ASSERT_TRUE(client.waitConnected(30s));
  auto r = client.call(target(), "echo", {{"value", "failover"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "failover");
}

// The broker's view of our declarations (SPEC §2 flags and arguments), through rabbitmqctl.
json listQueues(const std::string& vhost) {
  std::string node = testing::env("NWG_RABBIT_NODE");
  if (node.empty()) node = "rabbit@localhost";
  const std::string cmd = "rabbitmqctl -q -n '" + node + "' list_queues -p '" + vhost +
                          "' name durable auto_delete exclusive arguments --formatter json 2>/dev/null";
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    ::pclose(f);
  }
  json j = json::parse(out, nullptr, false);
  return j.is_array() ? j : json();
}

TEST_F(InteropTest, QueuesAreDeclaredAsOsloDeclaresThemAndFanoutQueuesGoAtStop) {
  const std::string vhost = config::TransportUrl::parse(url_)->virtualHost();
  NWG_REQUIRE(listQueues(vhost).is_array(), "rabbitmqctl access to the broker of NWG_TEST_TRANSPORT_URL");
  RpcEndpoint endpoint;
  endpoint.methods["x"] = [](const json&, const json&) { return MethodOutcome(nullptr); };
  auto client = connectedClient(url_);
  ASSERT_TRUE(
      client->subscribe(topic_, std::make_shared<RpcDispatcher>(std::vector<RpcEndpoint>{endpoint})).ok());
  auto ours = [&](const json& queues) {
    std::map<std::string, json> found;
    for (const auto& q : queues) {
      const std::string name = q["name"];
      if (name.rfind(topic_, 0) == 0 || name == client->replyQueue()) found[name] = q;
    }
    return found;
  };
  auto queues = ours(listQueues(vhost));
  ASSERT_EQ(queues.size(), 4u) << listQueues(vhost).dump();
  const std::string host_queue = topic_ + ".agent-" + testing::runToken();
  ASSERT_TRUE(queues.count(topic_));
  ASSERT_TRUE(queues.count(host_queue));
  ASSERT_TRUE(queues.count(client->replyQueue()));
  std::string fanout;
  for (const auto& [name, q] : queues) {
    EXPECT_EQ(q["durable"], false) << name;
    EXPECT_EQ(q["auto_delete"], false) << name;
    EXPECT_EQ(q["exclusive"], false) << name;
    const bool transient = name == client->replyQueue() || name.rfind(topic_ + "_fanout_", 0) == 0;
    if (name.rfind(topic_ + "_fanout_", 0) == 0) fanout = name;
    // rabbitmqctl prints arguments as a list of [key, value] pairs (or {} when empty).
    const std::string args = q["arguments"].dump();
    if (transient) {
      EXPECT_NE(args.find("x-expires"), std::string::npos) << name << " " << args;
      EXPECT_NE(args.find("1800000"), std::string::npos) << name << " " << args;
    } else {
      EXPECT_EQ(args.find("x-expires"), std::string::npos) << name << " " << args;
    }
  }
  ASSERT_FALSE(fanout.empty());
  client->stop();
  auto r = client->call(target(), "echo", {{"value", 1}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, RpcErrorKind::kShutdown);
  auto after = ours(listQueues(vhost));
  EXPECT_EQ(after.count(fanout), 0u) << "oslo deletes its fanout queues on close";
  EXPECT_EQ(after.count(topic_), 1u);
}

// A broker that goes silent (frozen, connections open) is noticed through missed heartbeats; the
// client reconnects once it answers again.
TEST_F(InteropTest, SilentBrokerIsDetectedByHeartbeats) {
  NWG_REQUIRE(testing::isRoot() && std::filesystem::exists("/usr/lib/rabbitmq/bin/rabbitmq-server"),
              "root and rabbitmq-server, to run a private RabbitMQ node");
  auto broker = PrivateBroker::start(testing::runToken());
  ASSERT_TRUE(broker.ok()) << broker.error().message;
  RpcClientOptions o = options((*broker)->transportUrl());
  o.rabbit.heartbeat_timeout_threshold = 2;
  RpcClient client(o);
  std::atomic<int> reconnected{0};
  client.onReconnect([&reconnected] { ++reconnected; });
  ASSERT_TRUE(client.start().ok());
  ASSERT_TRUE(client.waitConnected(30s));
  ASSERT_TRUE((*broker)->pause().ok());
  const bool noticed = eventually([&] { return !client.connected(); }, 60s);
  ASSERT_TRUE((*broker)->resume().ok());
  EXPECT_TRUE(noticed) << "a frozen broker was not noticed";
  EXPECT_TRUE(eventually([&] { return reconnected.load() >= 1 && client.connected(); }, 90s));
  auto peer = startServer((*broker)->transportUrl(), topic_);
  ASSERT_TRUE(peer);
  auto r = client.call(target(), "echo", {{"value", "back"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "back");
}

// TLS with rabbitmq-c's OpenSSL socket, verified by default: the chain against ssl_ca_file (or the
// system CAs) and the host name or address against the certificate (issued by a throwaway CA for
// localhost and 127.0.0.1). A certificate from another CA, or for another name, is refused; the opt-outs
// work. The oslo server uses the same node's plain listener.
TEST_F(InteropTest, TlsConnectionsVerifyTheBrokersCertificateAndName) {
  NWG_REQUIRE(testing::isRoot() && std::filesystem::exists("/usr/lib/rabbitmq/bin/rabbitmq-server") &&
                  std::filesystem::exists("/usr/bin/openssl"),
              "root, rabbitmq-server and openssl, to run a private RabbitMQ node with TLS");
  auto broker = PrivateBroker::start(testing::runToken(), /*tls=*/true);
  ASSERT_TRUE(broker.ok()) << broker.error().message;
  auto peer = startServer((*broker)->transportUrl(), topic_);
  ASSERT_TRUE(peer);
  auto url = [&](const std::string& host) {
    return "rabbit://guest:guest@" + host + ":" + std::to_string((*broker)->sslPort()) + "/";
  };
  auto tls = [&](const std::string& host) {
    RpcClientOptions o = options(url(host));
    o.rabbit.ssl = true;
    o.rabbit.ssl_ca_file = (*broker)->caFile();
    return o;
  };
  auto works = [&](const RpcClientOptions& o, const std::string& value) {
    RpcClient client(o);
    EXPECT_TRUE(client.start().ok());
    if (!client.waitConnected(30s)) return std::string("not connected");
    auto r = client.call(target(), "echo", {{"value", value}});
    if (!r.ok()) return r.error().message;
    return *r == value ? std::string() : std::string("wrong answer");
  };
  // The reason the client gives for not connecting (empty if it connected).
  auto refusal = [&](const RpcClientOptions& o) {
    RpcClient client(o);
    EXPECT_TRUE(client.start().ok());
    if (client.waitConnected(3s)) return std::string();
    auto r = client.call(target(), "echo", {{"value", 1}}, 1s);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, RpcErrorKind::kConnectionLost) << r.error().message;
    return r.ok() ? std::string() : r.error().message;
  };

  EXPECT_EQ(works(tls("127.0.0.1"), "over tls"), "");  // an IP subjectAltName
  {
    RpcClientOptions o = tls("localhost");  // a DNS subjectAltName, with a client certificate
    o.rabbit.ssl_cert_file = (*broker)->clientCert();
    o.rabbit.ssl_key_file = (*broker)->clientKey();
    EXPECT_EQ(works(o, std::string(1024 * 1024, 't')), "");
  }
  {
    RpcClientOptions o = tls("127.0.0.1");
    o.rabbit.ssl_ca_file = (*broker)->otherCaFile();  // did not sign the broker's certificate
    const std::string why = refusal(o);
    EXPECT_NE(why.find("verification failed"), std::string::npos) << why;
  }
  {
    RpcClientOptions o = tls("127.0.0.1");
    o.rabbit.ssl_ca_file.clear();  // the system CAs do not know the throwaway CA
    const std::string why = refusal(o);
    EXPECT_NE(why.find("verification failed"), std::string::npos) << why;
    EXPECT_NE(why.find("ca-certificates.crt"), std::string::npos) << why;
  }
  {
    // 127.0.0.2 reaches the same listener, but the certificate is not issued for it.
    const std::string why = refusal(tls("127.0.0.2"));
    EXPECT_NE(why.find("verification failed"), std::string::npos) << why;
    RpcClientOptions o = tls("127.0.0.2");
    o.rabbit.ssl_enforce_hostname_verification = false;  // the chain alone
    EXPECT_EQ(works(o, "name not checked"), "");
  }
  {
    RpcClientOptions o = tls("127.0.0.2");
    o.rabbit.ssl_ca_file = (*broker)->otherCaFile();
    o.rabbit.ssl_verify_broker_certificate = false;  // the explicit opt-out: anything goes
    EXPECT_EQ(works(o, "not verified"), "");
  }
}

// The broker restarts in the middle of a stream of calls: the client reconnects (re-declaring its
// queues), tells the agent (onReconnect), and calls resume; nothing crashes.
TEST_F(InteropTest, BrokerRestartInTheMiddleOfAStreamOfCalls) {
  NWG_REQUIRE(testing::isRoot() && std::filesystem::exists("/usr/lib/rabbitmq/bin/rabbitmq-server"),
              "root and rabbitmq-server, to run a private RabbitMQ node");
  auto broker = PrivateBroker::start(testing::runToken());
  ASSERT_TRUE(broker.ok()) << broker.error().message;
  const std::string url = (*broker)->transportUrl();
  auto peer = startServer(url, topic_);
  ASSERT_TRUE(peer);
  RpcClientOptions o = options(url);
  o.rabbit.heartbeat_timeout_threshold = 10;
  RpcClient client(o);
  std::atomic<int> reconnected{0};
  client.onReconnect([&reconnected] { ++reconnected; });
  ASSERT_TRUE(client.start().ok());
  ASSERT_TRUE(client.waitConnected(30s));

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, wrong{0}, lost{0}, timeouts{0}, other{0};
  std::thread caller([&] {
    for (int i = 0; !stop.load(); ++i) {
      auto r = client.call(target(), "echo", {{"value", i}}, 3s);
      if (r.ok()) {
        (*r == i ? ok : wrong)++;
      } else if (r.error().kind == RpcErrorKind::kConnectionLost) {
        ++lost;
        std::this_thread::sleep_for(50ms);
      } else if (r.error().kind == RpcErrorKind::kTimeout) {
        ++timeouts;
      } else {
        ++other;
      }
    }
  });
  ASSERT_TRUE(eventually([&] { return ok.load() >= 20; }, 60s));
  ASSERT_TRUE((*broker)->stop().ok());
  EXPECT_TRUE(eventually([&] { return !client.connected(); }, 30s));
  const int before = ok.load();
  ASSERT_TRUE((*broker)->restart().ok());
  const bool resumed = eventually([&] { return ok.load() >= before + 20; }, 120s);
  stop = true;
  caller.join();
  EXPECT_TRUE(resumed) << "ok=" << ok << " lost=" << lost << " timeouts=" << timeouts << " other=" << other;
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_GE(client.reconnects(), 1u);
  EXPECT_GE(reconnected.load(), 1);
  client.stop();
  peer->stop();
}

}  // namespace
}  // namespace nwg::rpc

#include "reconcile/agent_loop.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "reconcile/names.h"
#include "reconcile/tests/fake_host.h"
#include "reconcile/tests/fake_server.h"

namespace nwg::reconcile {
namespace {

using namespace std::chrono_literals;
using fakes::CapturedLog;
using fakes::FakeServer;

const std::string kHubA = "aaaaaaaa-0000-0000-0000-000000000001";
const std::string kHubB = "bbbbbbbb-0000-0000-0000-000000000002";

// Runs the loop on its own thread, as the daemon does; the test thread plays the RPC thread.
class AgentLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(initCrypto().ok());
    char tmpl[] = "/tmp/nwg-loop-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    state_dir_ = tmpl;
    server_.hubs[kHubA] = FakeServer::hub(kHubA, "10.10.0.1");
    server_.hubs[kHubB] = FakeServer::hub(kHubB, "10.10.0.2");
    identities_ = std::make_unique<IdentityStore>(state_dir_);
    ASSERT_TRUE(identities_->load().ok());
    observer_ = std::make_unique<Observer>(host_.links, host_.namespaces, host_);
    applier_ = std::make_unique<Applier>(host_.links, host_.namespaces, host_, log_, false);
    resolver_ = std::make_unique<EndpointResolver>([this](const std::string& n) { return dns_.lookup(n); },
                                                   EndpointResolver::Options{});
    reconciler_ = std::make_unique<Reconciler>(server_, *observer_, *applier_, *identities_, log_,
                                               ReconcilerOptions{}, facts_, *resolver_);
    LoopOptions options;
    options.polling_interval = 1h;  // only explicit triggers in these tests
    options.min_retry = 20ms;
    options.max_retry = 200ms;
    loop_ = std::make_unique<AgentLoop>(*reconciler_, log_, options);
  }
  void TearDown() override {
    if (thread_.joinable()) {
      loop_->stop();
      thread_.join();
    }
    std::filesystem::remove_all(state_dir_);
  }

  void start() {
    thread_ = std::thread([this] { loop_->run(); });
  }

  // Waits (bounded) until `pred` holds over the server's recorded requests.
  template <typename Pred>
  bool eventually(Pred pred) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard<std::mutex> lock(server_.mu);
        if (pred()) return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  size_t requests() {
    std::lock_guard<std::mutex> lock(server_.mu);
    return server_.requests.size();
  }

  std::string state_dir_;
  FakeServer server_;
  FakeHost host_;
  CapturedLog log_;
  FakeHostFacts facts_;
  FakeDns dns_;
  std::unique_ptr<EndpointResolver> resolver_;
  std::unique_ptr<IdentityStore> identities_;
  std::unique_ptr<Observer> observer_;
  std::unique_ptr<Applier> applier_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<AgentLoop> loop_;
  std::thread thread_;
};

TEST_F(AgentLoopTest, StartsWithAFullSyncThenSyncsOnlyNotifiedHubs) {
  start();
  ASSERT_TRUE(eventually([&] { return server_.requests.size() == 1; }));
  {
    std::lock_guard<std::mutex> lock(server_.mu);
    EXPECT_FALSE(server_.requests[0].has_value());  // full
  }
  loop_->hubsChanged({kHubB});
  ASSERT_TRUE(eventually([&] { return server_.requests.size() == 2; }));
  std::lock_guard<std::mutex> lock(server_.mu);
  ASSERT_TRUE(server_.requests[1].has_value());
  EXPECT_EQ(*server_.requests[1], std::vector<std::string>{kHubB});
}

TEST_F(AgentLoopTest, NotificationsBeforeTheFirstFullSyncWaitForIt) {
  server_.fail_next = true;  // the first full sync fails: the server is not there yet
  loop_->hubsChanged({kHubA});
  start();
  // The loop retries the full sync (with backoff) and never runs a partial sync before it succeeded.
  ASSERT_TRUE(eventually([&] { return server_.requests.size() >= 2; }));
  ASSERT_TRUE(eventually([&] { return server_.hubs[kHubA]["status"] == "ACTIVE"; }));
  std::lock_guard<std::mutex> lock(server_.mu);
  EXPECT_FALSE(server_.requests[0].has_value());
  EXPECT_FALSE(server_.requests[1].has_value());
  EXPECT_EQ(server_.hubs[kHubB]["status"], "ACTIVE");
}

TEST_F(AgentLoopTest, FailedHubIsRetriedAloneUntilItWorks) {
  host_.failing_creates[deviceName(kHubA)] = 2;
  start();
  ASSERT_TRUE(eventually([&] { return server_.hubs[kHubA]["status"] == "ACTIVE"; }));
  std::lock_guard<std::mutex> lock(server_.mu);
  EXPECT_EQ(server_.hubs[kHubB]["status"], "ACTIVE");
  // After the first full sync only kHubA was asked for again.
  for (size_t i = 1; i < server_.requests.size(); ++i) {
    ASSERT_TRUE(server_.requests[i].has_value());
    EXPECT_EQ(*server_.requests[i], std::vector<std::string>{kHubA});
  }
  EXPECT_GE(server_.requests.size(), 3u);  // one full, two retries (the second creation failed too)
}

class RecordingObserver : public LoopObserver {
 public:
  void passEnded(PassKind kind, const PassReport& report, std::chrono::steady_clock::duration) override {
    std::lock_guard lock(mu);
    passes.emplace_back(kind, report.complete);
  }
  void notificationApplied(std::chrono::steady_clock::duration latency) override {
    std::lock_guard lock(mu);
    latencies.push_back(latency);
  }
  size_t latencyCount() {
    std::lock_guard lock(mu);
    return latencies.size();
  }
  std::mutex mu;
  std::vector<std::pair<PassKind, bool>> passes;
  std::vector<std::chrono::steady_clock::duration> latencies;
};

TEST_F(AgentLoopTest, TheObserverHearsEveryPassAndHowLongNotifiedChangesTook) {
  const std::string kHubC = "cccccccc-0000-0000-0000-000000000003";
  const std::string kHubD = "dddddddd-0000-0000-0000-000000000004";
  const std::string kOtherHostsHub = "eeeeeeee-0000-0000-0000-000000000005";
  RecordingObserver observer;
  loop_->setObserver(&observer);
  host_.failing_creates[deviceName(kHubD)] = 1;  // kHubD does not exist yet: see below
  start();
  ASSERT_TRUE(eventually([&] { return server_.requests.size() == 1; }));
  {
    std::lock_guard<std::mutex> lock(server_.mu);
    server_.hubs[kHubC] = FakeServer::hub(kHubC, "10.10.0.3");
  }
  // Notifications name every host's hubs: only this host's, once applied, make a latency.
  loop_->hubsChanged({kHubC, kOtherHostsHub});
  ASSERT_TRUE(eventually([&] { return observer.latencyCount() == 1; }));
  // A hub whose first attempt fails counts from its notification to the retry that works.
  {
    std::lock_guard<std::mutex> lock(server_.mu);
    server_.hubs[kHubD] = FakeServer::hub(kHubD, "10.10.0.4");
  }
  loop_->hubsChanged({kHubD});
  ASSERT_TRUE(eventually([&] { return observer.latencyCount() == 2; }));
  loop_->stop();
  thread_.join();
  std::lock_guard lock(observer.mu);
  EXPECT_GE(observer.latencies[1], 20ms);  // at least the first retry's backoff (min_retry)
  ASSERT_GE(observer.passes.size(), 4u);
  EXPECT_EQ(observer.passes[0], std::make_pair(LoopObserver::PassKind::kDeep, true));
  EXPECT_EQ(observer.passes[1], std::make_pair(LoopObserver::PassKind::kPartial, true));
  EXPECT_EQ(observer.latencies.size(), 2u);
}

TEST_F(AgentLoopTest, RequestedFullSyncRunsEvenWithNothingDirty) {
  start();
  ASSERT_TRUE(eventually([&] { return server_.requests.size() == 1; }));
  loop_->requestFullSync("reconnected to RabbitMQ");
  ASSERT_TRUE(eventually([&] { return server_.requests.size() == 2; }));
  std::lock_guard<std::mutex> lock(server_.mu);
  EXPECT_FALSE(server_.requests[1].has_value());
}

TEST_F(AgentLoopTest, PollingPassesAreQuickBetweenDeepOnes) {
  LoopOptions options;
  options.polling_interval = 30ms;
  options.deep_interval = 1h;
  loop_ = std::make_unique<AgentLoop>(*reconciler_, log_, options);
  start();
  ASSERT_TRUE(eventually([&] { return server_.requests.size() >= 4; }));
  {
    std::lock_guard<std::mutex> lock(server_.mu);
    EXPECT_FALSE(server_.sent_digests[0]);  // the first full sync is deep
    EXPECT_TRUE(server_.sent_digests[3]);   // later polling passes are quick
  }
  const size_t before = requests();  // before the request: its pass may start at once
  loop_->requestFullSync("reconnected to RabbitMQ");
  ASSERT_TRUE(eventually([&] {
    for (size_t i = before; i < server_.requests.size(); ++i) {
      if (!server_.sent_digests[i]) return true;  // the requested sync is deep
    }
    return false;
  }));
}

TEST_F(AgentLoopTest, RunOnceReportsWhetherEveryHubWasRealized) {
  EXPECT_TRUE(loop_->runOnce());
  host_.vanish("tun-p1", deviceName(kHubA));
  host_.wireguard.failNext(wg::FakeBackend::Op::kCreate, Error("no", EIO));
  EXPECT_FALSE(loop_->runOnce());
  EXPECT_EQ(loop_->counts().hubs, 1u);
  EXPECT_EQ(loop_->counts().failed, 1u);
  server_.fail_next = true;
  EXPECT_FALSE(loop_->runOnce());
}

TEST_F(AgentLoopTest, StopEndsAPassInProgressAtItsNextHub) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = str("cccc", 1000 + i, "-0000-0000-0000-000000000000");
    server_.hubs[id] = FakeServer::hub(id, str("10.10.0.", i + 10));
  }
  // The third device's creation blocks until the test has called stop().
  std::mutex mu;
  std::condition_variable cv;
  int created = 0;
  bool reached = false;
  bool released = false;
  host_.on_create = [&](const std::string&) {
    std::unique_lock lock(mu);
    if (++created != 3) return;
    reached = true;
    cv.notify_all();
    cv.wait(lock, [&] { return released; });
  };
  start();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return reached; }));
  }
  loop_->stop();
  {
    std::lock_guard lock(mu);
    released = true;
  }
  cv.notify_all();
  thread_.join();  // run() returned: the pass did not go on through the other 99 hubs
  std::lock_guard lock(mu);
  EXPECT_EQ(created, 3);
  EXPECT_EQ(requests(), 1u);
  std::lock_guard server_lock(server_.mu);
  EXPECT_TRUE(server_.last_up.empty());             // a cancelled pass reports nothing
  EXPECT_FALSE(log_.contains("full sync failed"));  // a stop is not a failure
}

TEST_F(AgentLoopTest, StopBeforeRunEndsItWithoutAPass) {
  loop_->stop();
  loop_->run();  // returns at once
  EXPECT_EQ(requests(), 0u);
  EXPECT_EQ(host_.writes(), 0);
}

}  // namespace
}  // namespace nwg::reconcile

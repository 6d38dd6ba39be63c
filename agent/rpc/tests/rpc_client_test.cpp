// RpcClient without a broker, on FakeBroker: calls and casts between two clients, requeue order across
// a reconnect, re-declaration after a reconnect, failures in flight, stop() during connect / backoff /
// a call, call()+stop() races, and the I/O thread's exception barrier.
// Every wait is on an event (a condition, a latch, a broker state), never a sleep.
#include "rpc/rpc_client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <latch>
#include <set>
#include <thread>

#include "rpc/envelope.h"
#include "rpc/rpc_request.h"
#include "rpc/testing/fake_broker.h"
#include "support/log_capture.h"

namespace nwg::rpc {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Waits for `cond`, re-checking every millisecond, at most `limit` (conditions, not durations, are
// asserted; the limit only keeps a broken build from hanging).
template <typename Cond>
bool eventually(Cond cond, std::chrono::milliseconds limit = 10s) {
  const auto end = Clock::now() + limit;
  while (!cond()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// The body's method and args, for checking what a client published.
json innerOf(const std::string& body) {
  auto inner = Envelope::decode(body);
  return inner.ok() ? *inner : json();
}

class RpcClientTest : public ::testing::Test {
 protected:
  RpcClientOptions options(const std::string& host = "agent-1") const {
    RpcClientOptions o;
    o.transport_url = *config::TransportUrl::parse("rabbit://fake:5672/");
    o.host = host;
    o.default_timeout = 10s;
    o.rabbit.rabbit_retry_interval = 0;  // reconnect after the 100 ms floor
    o.rabbit.rabbit_retry_backoff = 0;
    return o;
  }

  std::unique_ptr<RpcClient> client(const std::string& host = "agent-1") {
    return std::make_unique<RpcClient>(options(host), capture_.log(), broker_->factory());
  }

  // A second client that serves `topic`: echo(value) and add(a, b); note() counts casts.
  std::unique_ptr<RpcClient> peer(const std::string& topic) {
    auto p = client("peer");
    RpcEndpoint e;
    e.methods["echo"] = [](const json&, const json& args) { return MethodOutcome(args.at("value")); };
    e.methods["note"] = [this](const json&, const json& args) {
      std::lock_guard lock(mu_);
      notes_.push_back(args.value("k", -1));
      cv_.notify_all();
      return MethodOutcome(nullptr);
    };
    EXPECT_TRUE(p->subscribe(topic, std::make_shared<RpcDispatcher>(std::vector<RpcEndpoint>{e})).ok());
    EXPECT_TRUE(p->start().ok());
    EXPECT_TRUE(p->waitConnected(10s));
    return p;
  }

  // The k of every message one of our clients sent to `routing_key`, in publish order.
  std::vector<int> sentTo(const std::string& routing_key, uint64_t connection = 0) const {
    std::vector<int> out;
    for (const auto& p : broker_->published()) {
      if (p.routing_key != routing_key || (connection && p.connection != connection)) continue;
      out.push_back(innerOf(p.body)["args"].value("k", -1));
    }
    return out;
  }

  std::shared_ptr<FakeBroker> broker_ = FakeBroker::create();
  testing::LogCapture capture_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> notes_;
};

TEST_F(RpcClientTest, CallsAndCastsBetweenTwoClients) {
  auto server = peer("q-peer");
  auto c = client();
  ASSERT_TRUE(c->start().ok());
  ASSERT_TRUE(c->waitConnected(10s));
  auto r = c->call(RpcTarget("q-peer", "1.0"), "echo", {{"value", {1, "two"}}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, json({1, "two"}));
  RpcTarget directed("q-peer", "1.0");
  directed.server = "peer";
  EXPECT_EQ(*c->call(directed, "echo", {{"value", "directed"}}), "directed");
  RpcTarget fanout("q-peer", "1.0");
  fanout.fanout = true;
  ASSERT_TRUE(c->cast(fanout, "note", {{"k", 7}}).ok());
  std::unique_lock lock(mu_);
  ASSERT_TRUE(cv_.wait_for(lock, 10s, [this] { return notes_.size() == 1; }));
  EXPECT_EQ(notes_[0], 7);
}

TEST_F(RpcClientTest, MessagesQueuedWhileDisconnectedAreSentInOrderOnceConnected) {
  broker_->refuseConnections("Connection refused");
  auto c = client();
  ASSERT_TRUE(c->start().ok());
  std::vector<std::thread> callers;
  std::vector<RpcStatus> results(4, RpcStatus(std::monostate{}));
  for (int k = 0; k < 4; ++k) {
    callers.emplace_back([&, k] {
      results[static_cast<size_t>(k)] = c->cast(RpcTarget("q-order", "1.0"), "note", {{"k", k}});
    });
    ASSERT_TRUE(
        eventually([&] { return c->queued() == static_cast<size_t>(k + 1); }));  // k queued before k+1
  }
  ASSERT_TRUE(eventually([&] { return broker_->attempts() >= 2; }));  // still refused, still queued
  EXPECT_EQ(c->queued(), 4u);
  broker_->allowConnections();
  for (auto& t : callers) t.join();
  for (const auto& r : results) EXPECT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(sentTo("q-order"), (std::vector<int>{0, 1, 2, 3}));
}

TEST_F(RpcClientTest, AConnectionThatFailsMidBatchSendsTheRestInOrderAfterTheReconnect) {
  broker_->refuseConnections("Connection refused");
  auto c = client();
  std::atomic<int> reconnected{0};
  c->onReconnect([&] { ++reconnected; });
  ASSERT_TRUE(c->start().ok());
  std::vector<std::thread> callers;
  std::vector<RpcStatus> results(3, RpcStatus(std::monostate{}));
  for (int k = 0; k < 3; ++k) {
    callers.emplace_back([&, k] {
      results[static_cast<size_t>(k)] = c->cast(RpcTarget("q-order", "1.0"), "note", {{"k", k}});
    });
    ASSERT_TRUE(eventually([&] { return c->queued() == static_cast<size_t>(k + 1); }));
  }
  // The first connection dies on its second publish (after the exchange declaration and message 0).
  broker_->failAt(FakeBroker::Op::kPublish, 2);
  broker_->allowConnections();
  for (auto& t : callers) t.join();
  EXPECT_EQ(sentTo("q-order", 1), std::vector<int>{0});
  EXPECT_EQ(sentTo("q-order", 2), (std::vector<int>{1, 2}));
  // Message 0 went out on the connection that died before its confirm: in flight, so it fails.
  ASSERT_FALSE(results[0].ok());
  EXPECT_EQ(results[0].error().kind, RpcErrorKind::kConnectionLost) << results[0].error().message;
  EXPECT_TRUE(results[1].ok() && results[2].ok());
  EXPECT_EQ(reconnected.load(), 1);
}

TEST_F(RpcClientTest, EverySubscriptionAndTheReplyQueueAreDeclaredAgainAfterEachReconnect) {
  auto c = client();
  RpcEndpoint e;
  e.methods["x"] = [](const json&, const json&) { return MethodOutcome(nullptr); };
  auto d = std::make_shared<RpcDispatcher>(std::vector<RpcEndpoint>{e});
  ASSERT_TRUE(c->subscribe("q-a", d).ok());
  std::mutex mu;
  std::condition_variable cv;
  int handled = 0;
  c->onReconnect([&] {
    std::lock_guard lock(mu);
    ++handled;
    cv.notify_all();
  });
  ASSERT_TRUE(c->start().ok());
  ASSERT_TRUE(c->waitConnected(10s));
  ASSERT_TRUE(c->subscribe("q-b", d).ok());  // while connected: declared at once
  const auto first = broker_->consumedBy(1);
  ASSERT_EQ(first.size(), 7u);
  EXPECT_EQ(first[0], c->replyQueue());
  for (int round = 1; round <= 2; ++round) {
    broker_->dropConnections("broker restarted");
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return handled == round; }));
    lock.unlock();
    EXPECT_EQ(c->reconnects(), static_cast<uint64_t>(round));
    const auto again = broker_->consumedBy(static_cast<size_t>(round + 1));
    EXPECT_EQ(again, (std::vector<std::string>{c->replyQueue(), "q-a", "q-a.agent-1", first[3], "q-b",
                                               "q-b.agent-1", first[6]}))
        << "round " << round;
  }
  EXPECT_EQ(handled, 2);  // once per reconnect, never for the first connection
}

TEST_F(RpcClientTest, ACallInFlightFailsWithConnectionLostWhenTheConnectionGoes) {
  auto c = client();
  ASSERT_TRUE(c->start().ok());
  ASSERT_TRUE(c->waitConnected(10s));
  auto result =
      std::async(std::launch::async, [&] { return c->call(RpcTarget("q-nobody", "1.0"), "echo", {}, 60s); });
  ASSERT_TRUE(eventually([&] { return !sentTo("q-nobody").empty(); }));
  const auto dropped = Clock::now();
  broker_->dropConnections("broker restarted");
  ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
  EXPECT_LT(Clock::now() - dropped, 5s);  // not at its 60 s deadline
  auto r = result.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, RpcErrorKind::kConnectionLost) << r.error().message;
}

TEST_F(RpcClientTest, StopDuringAConnectionAttemptReturnsAtOnceAndFailsQueuedCalls) {
  broker_->holdConnections();
  auto c = client();
  ASSERT_TRUE(c->start().ok());
  ASSERT_TRUE(broker_->waitForHeldOpen(10s));
  auto result = std::async(std::launch::async, [&] { return c->call(RpcTarget("q", "1.0"), "m", {}, 60s); });
  ASSERT_TRUE(eventually([&] { return c->queued() == 1; }));
  const auto t0 = Clock::now();
  c->stop();
  EXPECT_LT(Clock::now() - t0, 500ms);
  ASSERT_EQ(result.wait_for(1s), std::future_status::ready);
  EXPECT_EQ(result.get().error().kind, RpcErrorKind::kShutdown);
  EXPECT_EQ(broker_->opened(), 0u);
}

TEST_F(RpcClientTest, StopDuringTheBackoffReturnsAtOnce) {
  broker_->refuseConnections("Connection refused");
  RpcClientOptions o = options();
  o.rabbit.rabbit_retry_interval = 30;
  RpcClient c(o, capture_.log(), broker_->factory());
  ASSERT_TRUE(c.start().ok());
  ASSERT_TRUE(eventually([&] { return broker_->attempts() == 1; }));
  const auto t0 = Clock::now();
  c.stop();
  EXPECT_LT(Clock::now() - t0, 500ms);
  EXPECT_EQ(broker_->attempts(), 1u);
}

TEST_F(RpcClientTest, StopFailsACallInFlightAtOnceAndClosesPolitely) {
  auto c = client();
  RpcEndpoint e;
  e.methods["x"] = [](const json&, const json&) { return MethodOutcome(nullptr); };
  ASSERT_TRUE(c->subscribe("q-sub", std::make_shared<RpcDispatcher>(std::vector<RpcEndpoint>{e})).ok());
  ASSERT_TRUE(c->start().ok());
  ASSERT_TRUE(c->waitConnected(10s));
  auto result =
      std::async(std::launch::async, [&] { return c->call(RpcTarget("q-nobody", "1.0"), "echo", {}, 60s); });
  ASSERT_TRUE(eventually([&] { return !sentTo("q-nobody").empty(); }));
  const auto t0 = Clock::now();
  c->stop();
  EXPECT_LT(Clock::now() - t0, RpcClient::kStopGrace);
  ASSERT_EQ(result.wait_for(1s), std::future_status::ready);  // failed by stop(), not at its 60 s deadline
  EXPECT_EQ(result.get().error().kind, RpcErrorKind::kShutdown);
  // As oslo: consumers cancelled, the fanout queue deleted, the shared queues kept.
  EXPECT_TRUE(broker_->consumedQueues().empty());
  EXPECT_TRUE(broker_->hasQueue("q-sub"));
  EXPECT_EQ(broker_->openConnections(), 0u);
  auto after = c->call(RpcTarget("q", "1.0"), "m", {});
  EXPECT_EQ(after.error().kind, RpcErrorKind::kShutdown);
  EXPECT_EQ(c->cast(RpcTarget("q", "1.0"), "m", {}).error().kind, RpcErrorKind::kShutdown);
  EXPECT_FALSE(c->subscribe("q-late", nullptr).ok());
  c->stop();  // idempotent
}

TEST_F(RpcClientTest, CallsRacingWithStopAllReturn) {
  auto server = peer("q-race");
  for (int round = 0; round < 5; ++round) {
    auto c = client();
    ASSERT_TRUE(c->start().ok());
    ASSERT_TRUE(c->waitConnected(10s));
    std::atomic<int> ok{0}, shutdown{0}, other{0};
    std::latch started(4);
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t) {
      callers.emplace_back([&, t] {
        started.count_down();
        for (int i = 0; i < 50; ++i) {
          std::optional<RpcErrorKind> failed;
          if (t % 2) {
            auto r = c->call(RpcTarget("q-race", "1.0"), "echo", {{"value", i}}, 10s);
            if (!r.ok()) failed = r.error().kind;
          } else {
            auto r = c->cast(RpcTarget("q-race", "1.0"), "note", {{"k", i}});
            if (!r.ok()) failed = r.error().kind;
          }
          if (!failed) {
            ++ok;
          } else if (*failed == RpcErrorKind::kShutdown) {
            ++shutdown;
          } else {
            ++other;
          }
        }
      });
    }
    started.wait();
    ASSERT_TRUE(eventually([&] { return ok.load() >= 10; }));
    const auto t0 = Clock::now();
    c->stop();
    for (auto& th : callers) th.join();  // nobody is left waiting (ctest's timeout would catch it)
    EXPECT_LT(Clock::now() - t0, 5s);
    EXPECT_EQ(ok + shutdown + other, 200);
  }
}

TEST_F(RpcClientTest, AnExceptionOnTheIoThreadDropsTheConnectionAndTheClientRecovers) {
  auto server = peer("q-peer");
  auto c = client();
  ASSERT_TRUE(c->start().ok());
  ASSERT_TRUE(c->waitConnected(10s));
  broker_->throwAt(FakeBroker::Op::kPoll, 1, /*connection=*/2);  // ours (the peer's is the first)
  ASSERT_TRUE(eventually([&] { return c->reconnects() == 1; }));
  auto r = c->call(RpcTarget("q-peer", "1.0"), "echo", {{"value", "still here"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "still here");
  EXPECT_NE(capture_.text().find("internal error on the RPC I/O thread: injected exception"),
            std::string::npos)
      << capture_.text();
}

TEST_F(RpcClientTest, ANackedCastIsRefused) {
  broker_->setConfirmMode(FakeBroker::ConfirmMode::kNack);
  auto c = client();
  ASSERT_TRUE(c->start().ok());
  ASSERT_TRUE(c->waitConnected(10s));
  auto r = c->cast(RpcTarget("q", "1.0"), "note", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, RpcErrorKind::kPublishRefused) << r.error().message;
}

TEST_F(RpcClientTest, ACastCompletesOnItsConfirm) {
  broker_->setConfirmMode(FakeBroker::ConfirmMode::kHold);
  auto c = client();
  ASSERT_TRUE(c->start().ok());
  ASSERT_TRUE(c->waitConnected(10s));
  auto result = std::async(std::launch::async, [&] { return c->cast(RpcTarget("q", "1.0"), "note", {}); });
  ASSERT_TRUE(eventually([&] { return broker_->heldConfirms() == 1; }));
  broker_->settleHeld(/*ack=*/true);
  ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(result.get().ok());
}

// The eventfds this process has open ("anon_inode:[eventfd]" in /proc/self/fd).
std::set<int> eventfds() {
  std::set<int> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(e.path(), ec);
    if (!ec && target.string() == "anon_inode:[eventfd]") out.insert(std::stoi(e.path().filename().string()));
  }
  return out;
}

// A wake-up that cannot be written (or read) must not leave the I/O thread asleep until its 1 s timer:
// it is logged once and the loop polls every 50 ms instead.
TEST_F(RpcClientTest, WhenWakeUpsFailTheClientPollsInsteadOfSleeping) {
  auto server = peer("q-peer");
  const auto before = eventfds();
  auto c = client();
  std::vector<int> created;
  for (int fd : eventfds()) {
    if (!before.count(fd)) created.push_back(fd);
  }
  ASSERT_EQ(created.size(), 1u);                                  // the client's wake-up eventfd
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // EBADF on write, EOF on read
  ASSERT_GE(devnull, 0);
  ASSERT_EQ(::dup2(devnull, created[0]), created[0]);
  ::close(devnull);
  ASSERT_TRUE(c->start().ok());
  ASSERT_TRUE(c->waitConnected(10s));
  const auto t0 = Clock::now();
  for (int i = 0; i < 10; ++i) {
    auto r = c->call(RpcTarget("q-peer", "1.0"), "echo", {{"value", i}});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  EXPECT_LT(Clock::now() - t0, 5s);  // sleeping until the timer would take about 10 s
  const std::string log = capture_.text();
  EXPECT_NE(log.find("the I/O thread now polls every 50 ms"), std::string::npos) << log;
  const auto t1 = Clock::now();
  c->stop();
  EXPECT_LT(Clock::now() - t1, RpcClient::kStopGrace);
}

}  // namespace
}  // namespace nwg::rpc

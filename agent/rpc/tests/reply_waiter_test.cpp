// ReplyWaiter: oslo's reply algorithm, heartbeats, unknown ids, timeouts, connection loss, threads.
#include "rpc/reply_waiter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <latch>
#include <sstream>
#include <thread>

#include "rpc/envelope.h"

namespace nwg::rpc {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

RpcReply reply(std::string id, json result, bool ending, std::optional<std::string> failure = std::nullopt) {
  RpcReply r;
  r.msg_id = std::move(id);
  r.result = std::move(result);
  r.ending = ending;
  r.failure = std::move(failure);
  return r;
}

// A deadline in the past: wait() returns whatever is there without sleeping.
ReplyWaiter::Clock::time_point now() {
  return ReplyWaiter::Clock::now();
}

TEST(ReplyWaiterTest, HeartbeatsThenFinalReply) {
  ReplyWaiter w;
  ASSERT_TRUE(w.expect("m", "q-wireguard.slow"));
  EXPECT_EQ(w.deliver(reply("m", nullptr, false)), ReplyWaiter::Delivery::kHeartbeat);
  EXPECT_EQ(w.deliver(reply("m", nullptr, false)), ReplyWaiter::Delivery::kHeartbeat);
  EXPECT_EQ(w.deliver(reply("m", json{{"ok", 1}}, true)), ReplyWaiter::Delivery::kCompleted);
  auto r = w.wait("m", now());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (json{{"ok", 1}}));
  EXPECT_EQ(w.pending(), 0u);
}

// The captured call-monitor exchange: heartbeats, then the final reply, for one _msg_id.
TEST(ReplyWaiterTest, CapturedHeartbeatsThenFinalReply) {
  auto load = [](const char* file) {
    std::ifstream in(std::filesystem::path(NWG_RPC_GOLDEN_DIR) / file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto inner = Envelope::decode(json::parse(ss.str())["body"].get<std::string>());
    EXPECT_TRUE(inner.ok());
    auto r = RpcReply::fromInner(*inner);
    EXPECT_TRUE(r.ok());
    return *r;
  };
  const RpcReply heartbeat = load("reply_heartbeat.json");
  const RpcReply final_reply = load("reply_final_after_heartbeats.json");
  ASSERT_EQ(heartbeat.msg_id, final_reply.msg_id);
  ReplyWaiter w;
  ASSERT_TRUE(w.expect(heartbeat.msg_id, "q-wireguard.slow"));
  EXPECT_EQ(w.deliver(heartbeat), ReplyWaiter::Delivery::kHeartbeat);
  EXPECT_EQ(w.deliver(heartbeat), ReplyWaiter::Delivery::kHeartbeat);
  EXPECT_EQ(w.deliver(final_reply), ReplyWaiter::Delivery::kCompleted);
  auto r = w.wait(heartbeat.msg_id, now());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, final_reply.result);
  EXPECT_FALSE(r->is_null());
}

TEST(ReplyWaiterTest, PreNewtonTwoMessageReplyKeepsTheResult) {
  ReplyWaiter w;
  ASSERT_TRUE(w.expect("m", "t.m"));
  EXPECT_EQ(w.deliver(reply("m", json("value"), false)), ReplyWaiter::Delivery::kPartial);
  EXPECT_EQ(w.deliver(reply("m", nullptr, true)), ReplyWaiter::Delivery::kCompleted);
  EXPECT_EQ(*w.wait("m", now()), "value");
}

TEST(ReplyWaiterTest, NullResultIsAValidResult) {
  ReplyWaiter w;
  ASSERT_TRUE(w.expect("m", "t.m"));
  w.deliver(reply("m", nullptr, true));
  auto r = w.wait("m", now());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_null());
}

TEST(ReplyWaiterTest, FailuresAreTyped) {
  struct Case {
    const char* cls;
    const char* mod;
    RpcErrorKind kind;
  } cases[] = {{"NoSuchMethod", "oslo_messaging.rpc.dispatcher", RpcErrorKind::kNoSuchMethod},
               {"UnsupportedVersion", "oslo_messaging.rpc.dispatcher", RpcErrorKind::kUnsupportedVersion},
               {"ValueError", "builtins", RpcErrorKind::kRemoteError}};
  for (const auto& c : cases) {
    ReplyWaiter w;
    ASSERT_TRUE(w.expect("m", "q-plugin.x"));
    w.deliver(reply("m", nullptr, true, RemoteError::make(c.cls, c.mod, "why").serialize()));
    auto r = w.wait("m", now());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, c.kind) << c.cls;
    ASSERT_TRUE(r.error().remote.has_value());
    EXPECT_EQ(r.error().remote->class_name, c.cls);
    EXPECT_EQ(r.error().remote->module, c.mod);
    EXPECT_EQ(r.error().remote->message, "why");
    EXPECT_NE(r.error().message.find("q-plugin.x"), std::string::npos);
  }
}

TEST(ReplyWaiterTest, UnparsableFailureIsAMalformedReply) {
  ReplyWaiter w;
  ASSERT_TRUE(w.expect("m", "t.m"));
  w.deliver(reply("m", nullptr, true, std::string("garbage")));
  auto r = w.wait("m", now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, RpcErrorKind::kMalformedReply);
}

TEST(ReplyWaiterTest, UnknownAndLateRepliesAreIgnored) {
  ReplyWaiter w;
  EXPECT_EQ(w.deliver(reply("nobody", 1, true)), ReplyWaiter::Delivery::kUnknownCall);
  ASSERT_TRUE(w.expect("m", "t.m"));
  w.markPublished("m");
  auto r = w.wait("m", now() + 10ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, RpcErrorKind::kTimeout);
  EXPECT_EQ(w.deliver(reply("m", 1, true)), ReplyWaiter::Delivery::kUnknownCall);  // after its timeout
  EXPECT_EQ(w.pending(), 0u);
}

TEST(ReplyWaiterTest, ANeverPublishedCallIsAConnectionFailureNotATimeout) {
  ReplyWaiter w;
  ASSERT_TRUE(w.expect("m", "t.m"));
  auto r = w.wait("m", now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, RpcErrorKind::kConnectionLost);
}

TEST(ReplyWaiterTest, ConnectionLossFailsOnlyPublishedCalls) {
  ReplyWaiter w;
  ASSERT_TRUE(w.expect("sent", "t.a"));
  ASSERT_TRUE(w.expect("queued", "t.b"));
  w.markPublished("sent");
  w.failPublished(RpcErrorKind::kConnectionLost, "broker gone");
  auto sent = w.wait("sent", now());
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().kind, RpcErrorKind::kConnectionLost);
  EXPECT_EQ(sent.error().message, "t.a: broker gone");
  w.deliver(reply("queued", 3, true));  // still waiting: it may be sent after the reconnect
  EXPECT_EQ(*w.wait("queued", now()), 3);
}

TEST(ReplyWaiterTest, FirstOutcomeWins) {
  ReplyWaiter w;
  ASSERT_TRUE(w.expect("m", "t.m"));
  w.deliver(reply("m", 1, true));
  w.fail("m", RpcError{RpcErrorKind::kPublishRefused, "late nack", {}});
  EXPECT_EQ(*w.wait("m", now()), 1);
}

// wait() blocks until the I/O thread delivers: the final reply is sent only after the waiter said it is
// about to wait, and the result it gets is one that did not exist before. A generous deadline shows the
// wake-up came from the delivery, not the clock.
TEST(ReplyWaiterTest, DeliveryFromAnotherThreadWakesTheWaiter) {
  ReplyWaiter w;
  ASSERT_TRUE(w.expect("m", "t.m"));
  w.markPublished("m");
  std::latch waiting(1);
  auto result = std::async(std::launch::async, [&] {
    waiting.count_down();
    return w.wait("m", now() + 60s);
  });
  waiting.wait();
  EXPECT_EQ(w.deliver(reply("m", nullptr, false)), ReplyWaiter::Delivery::kHeartbeat);  // does not end it
  EXPECT_EQ(w.deliver(reply("m", "done", true)), ReplyWaiter::Delivery::kCompleted);
  ASSERT_EQ(result.wait_for(30s), std::future_status::ready);
  auto r = result.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "done");
}

// A heartbeat does not end a wait: with only heartbeats delivered, wait() ends at its deadline.
TEST(ReplyWaiterTest, HeartbeatsAloneEndAtTheDeadline) {
  ReplyWaiter w;
  ASSERT_TRUE(w.expect("m", "t.m"));
  w.markPublished("m");
  EXPECT_EQ(w.deliver(reply("m", nullptr, false)), ReplyWaiter::Delivery::kHeartbeat);
  const auto deadline = now() + 50ms;
  auto r = w.wait("m", deadline);
  EXPECT_GE(ReplyWaiter::Clock::now(), deadline);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, RpcErrorKind::kTimeout);
}

TEST(ReplyWaiterTest, ShutdownFailsEverythingAndRefusesNewCalls) {
  ReplyWaiter w;
  ASSERT_TRUE(w.expect("a", "t.a"));
  ASSERT_TRUE(w.expect("b", "t.b"));
  std::latch waiting(1);
  auto a = std::async(std::launch::async, [&] {
    waiting.count_down();
    return w.wait("a", now() + 60s);
  });
  waiting.wait();
  w.close(RpcErrorKind::kShutdown, "stopping");
  ASSERT_EQ(a.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(a.get().error().kind, RpcErrorKind::kShutdown);
  EXPECT_EQ(w.wait("b", now()).error().kind, RpcErrorKind::kShutdown);
  EXPECT_FALSE(w.expect("c", "t.c"));  // a caller racing with shutdown is refused, never left waiting
}

TEST(ReplyWaiterTest, ACastCompletesWithItsConfirm) {
  ReplyWaiter w;
  ASSERT_TRUE(w.expect("cast-1", "t.c"));
  w.markPublished("cast-1");
  w.complete("cast-1", nullptr);
  auto r = w.wait("cast-1", now());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_null());
}

}  // namespace
}  // namespace nwg::rpc

// RpcServer on the fake broker: oslo's consumers, dispatch behind the exception barrier, replies,
// duplicates, bounds, and log lines that carry no raw bytes from the network.
#include "rpc/rpc_server.h"

#include <gtest/gtest.h>

#include "rpc/envelope.h"
#include "rpc/request_context.h"
#include "rpc/rpc_reply.h"
#include "rpc/rpc_request.h"
#include "rpc/testing/fake_broker.h"
#include "support/log_capture.h"

namespace nwg::rpc {
namespace {

using nlohmann::json;

class RpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AmqpConnectOptions o;
    o.host = "fake";
    o.max_body_bytes = 4096;
    auto t = broker_->factory()->open(o, interrupt_);
    ASSERT_TRUE(t.ok());
    transport_ = std::move(t).value();
    RpcEndpoint e;
    e.version = "1.1";
    e.methods["add"] = [](const json&, const json& args) {
      return MethodOutcome(args.at("a").get<int>() + args.at("b").get<int>());
    };
    e.methods["note"] = [this](const json&, const json&) {
      ++notes_;
      return MethodOutcome(nullptr);
    };
    e.methods["buggy"] = [](const json&, const json&) -> MethodOutcome { throw std::out_of_range("bug 42"); };
    index_ = server_.add("q-test", std::make_shared<RpcDispatcher>(std::vector<RpcEndpoint>{e}), "f00d");
    ASSERT_TRUE(server_.declare(*transport_, index_).ok());
    // The caller's reply queue.
    QueueSpec reply;
    reply.name = "reply_x";
    ASSERT_TRUE(transport_->declareQueue(reply).ok());
  }

  static std::string request(const std::string& method, json args, bool call, std::string unique = "",
                             json context = RequestContext::admin()) {
    RpcRequest r;
    r.method = method;
    r.args = std::move(args);
    r.version = "1.0";
    if (call) {
      r.msg_id = "m-" + method;
      r.reply_q = "reply_x";
    }
    r.unique_id = unique.empty() ? "u-" + method + std::to_string(counter_++) : unique;
    r.context = std::move(context);
    return Envelope::encode(r.toInner());
  }

  // Delivers what the broker has for our consumers to the server, acking first as RpcClient does.
  void serve() {
    while (true) {
      auto ev = transport_->poll();
      ASSERT_TRUE(ev.ok()) << ev.error().message;
      if (ev->kind == AmqpEvent::Kind::kNone) return;
      if (ev->kind != AmqpEvent::Kind::kDelivery) continue;
      ASSERT_TRUE(transport_->ack(ev->delivery_tag).ok());
      ASSERT_TRUE(server_.owns(ev->consumer_tag));
      server_.handle(*transport_, *ev);
    }
  }

  std::vector<RpcReply> replies() const {
    std::vector<RpcReply> out;
    for (const auto& p : broker_->published()) {
      if (p.exchange != "" || p.routing_key != "reply_x") continue;
      EXPECT_TRUE(p.mandatory);
      out.push_back(*RpcReply::fromInner(*Envelope::decode(p.body)));
    }
    return out;
  }

  static inline int counter_ = 0;
  std::shared_ptr<FakeBroker> broker_ = FakeBroker::create();
  ConnectInterrupt interrupt_;
  std::unique_ptr<AmqpTransport> transport_;
  testing::LogCapture capture_{/*debug=*/true};
  RpcServer server_{Topology("neutron", config::RabbitOptions{}),
                    RpcServer::Options{"net-1", true, JsonLimits{4096, 64}}, capture_.log()};
  size_t index_ = 0;
  int notes_ = 0;
};

TEST_F(RpcServerTest, ConsumesTheTopicItsHostQueueAndAFanoutQueueAsOsloDoes) {
  EXPECT_EQ(broker_->consumedBy(1),
            (std::vector<std::string>{"q-test", "q-test.net-1", "q-test_fanout_f00d"}));
  EXPECT_TRUE(broker_->hasExchange("neutron"));
  EXPECT_TRUE(broker_->hasExchange("q-test_fanout"));
}

TEST_F(RpcServerTest, AnswersCallsOnTheirReplyQueueAndNotCasts) {
  broker_->inject("neutron", "q-test", request("add", {{"a", 2}, {"b", 3}}, true));
  broker_->inject("neutron", "q-test.net-1", request("note", json::object(), false));
  broker_->inject("q-test_fanout", "", request("note", json::object(), false));
  serve();
  EXPECT_EQ(notes_, 2);
  const auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].msg_id, "m-add");
  EXPECT_EQ(r[0].result, 5);
  EXPECT_TRUE(r[0].ending);
  EXPECT_FALSE(r[0].failure);
}

TEST_F(RpcServerTest, AHandlersExceptionBecomesTheCallersRuntimeErrorAndServingGoesOn) {
  broker_->inject("neutron", "q-test", request("buggy", json::object(), true));
  broker_->inject("neutron", "q-test",
                  request("add", {{"a", "not a number"}, {"b", 1}}, true));  // json throws
  broker_->inject("neutron", "q-test", request("add", {{"a", 1}, {"b", 1}}, true));
  serve();
  const auto r = replies();
  ASSERT_EQ(r.size(), 3u);
  auto failure = RemoteError::parse(*r[0].failure);
  ASSERT_TRUE(failure.ok());
  EXPECT_EQ(failure->class_name, "RuntimeError");
  EXPECT_EQ(failure->module, "builtins");
  EXPECT_EQ(failure->message, "q-test.buggy failed: bug 42");
  EXPECT_TRUE(r[1].failure.has_value());
  EXPECT_EQ(r[2].result, 2);
}

TEST_F(RpcServerTest, DuplicatesAreDroppedAsOsloDropsThem) {
  const std::string once = request("note", json::object(), false, "same-id");
  broker_->inject("neutron", "q-test", once);
  broker_->inject("neutron", "q-test", once);
  serve();
  EXPECT_EQ(notes_, 1);
  EXPECT_NE(capture_.text().find("Found duplicate message(same-id). Skipping it."), std::string::npos);
}

TEST_F(RpcServerTest, BodiesOverTheLimitAndMalformedBodiesAreDroppedWithOneLine) {
  broker_->inject("neutron", "q-test", request("note", {{"pad", std::string(5000, 'p')}}, false));
  broker_->inject("neutron", "q-test", "not json");
  broker_->inject("neutron", "q-test", std::string(100, '[') + std::string(100, ']'));
  serve();
  EXPECT_EQ(notes_, 0);
  const auto lines = capture_.lines();
  ASSERT_EQ(lines.size(), 3u) << capture_.text();
  EXPECT_NE(lines[0].find("dropping a 5"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("more than the 4096 bytes accepted"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("is not valid JSON"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("nested deeper than 64"), std::string::npos) << lines[2];
}

TEST_F(RpcServerTest, ControlCharactersFromTheNetworkAreEscapedInLogLines) {
  json context = RequestContext::admin();
  context["request_id"] = "req-1\nFORGED ERROR line\r\x1b[0m";
  broker_->inject("neutron", "q-test", request("no\nsuch\tmethod\x07", json::object(), true, "", context));
  serve();
  const std::string text = capture_.text();
  const auto lines = capture_.lines();
  // The DEBUG "received" line and the WARNING about the failure: two lines, nothing forged.
  ASSERT_EQ(lines.size(), 2u) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  for (const auto& line : lines) {
    EXPECT_NE(line.find("req-1\\nFORGED ERROR line\\r\\x1b[0m"), std::string::npos) << line;
  }
  EXPECT_NE(lines[0].find("received call q-test.no\\nsuch\\tmethod\\x07"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("Endpoint does not support RPC method no\\nsuch\\tmethod\\x07"), std::string::npos)
      << lines[1];
  // The caller still gets oslo's exact answer.
  const auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(RemoteError::parse(*r[0].failure)->message,
            "Endpoint does not support RPC method no\nsuch\tmethod\x07");
}

TEST_F(RpcServerTest, CloseCancelsConsumersAndDeletesOnlyTheFanoutQueue) {
  server_.close(*transport_);
  EXPECT_FALSE(server_.owns("nwg-1"));
  EXPECT_TRUE(broker_->consumedQueues().empty());
  EXPECT_TRUE(broker_->hasQueue("q-test"));
  EXPECT_TRUE(broker_->hasQueue("q-test.net-1"));
  EXPECT_FALSE(broker_->hasQueue("q-test_fanout_f00d"));
}

}  // namespace
}  // namespace nwg::rpc

// The AmqpTransport contract (see transport_contract.h).
#include "transport_contract.h"

#include <poll.h>

#include <chrono>
#include <thread>

#include "rpc/uuid.h"
#include "testing/testing.h"

namespace nwg::rpc::testing {

using namespace std::chrono_literals;

void TransportContract::SetUp() {
  const std::string why = GetParam().unavailable ? GetParam().unavailable() : std::string();
  NWG_REQUIRE(why.empty(), why);
  factory_ = GetParam().factory();
  token_ = newUuidHex().substr(0, 10);
}

std::string TransportContract::name(const std::string& what) const {
  return "nwg-contract-" + token_ + "-" + what;
}

std::unique_ptr<AmqpTransport> TransportContract::open(size_t max_body_bytes) {
  AmqpConnectOptions o = GetParam().options();
  o.max_body_bytes = max_body_bytes;
  auto t = factory_->open(o, interrupt_);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? std::move(t).value() : nullptr;
}

AmqpEvent TransportContract::waitFor(AmqpTransport& t, AmqpEvent::Kind kind) {
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < end) {
    auto ev = t.poll();
    if (!ev.ok()) {
      ADD_FAILURE() << "poll: " << ev.error().message;
      return {};
    }
    if (ev->kind == kind) return std::move(ev).value();
    if (ev->kind != AmqpEvent::Kind::kNone) {
      seen_.push_back(std::move(ev).value());
      continue;
    }
    if (t.hasBufferedInput()) continue;
    pollfd p{t.fd(), POLLIN, 0};
    ::poll(&p, 1, 100);
  }
  ADD_FAILURE() << "no event of kind " << static_cast<int>(kind) << " within 10 s";
  return {};
}

namespace {

ExchangeSpec topicExchange(const std::string& name) {
  return ExchangeSpec{name, "topic", false, false};
}

QueueSpec boundQueue(const std::string& name, const std::string& exchange, const std::string& key) {
  QueueSpec q;
  q.name = name;
  q.arguments.push_back({"x-expires", int32_t{60000}});
  q.bind_exchange = exchange;
  q.routing_key = key;
  return q;
}

}  // namespace

TEST_P(TransportContract, PublishesAreConfirmedInSequenceAndDeliveredToTheConsumer) {
  auto t = open();
  ASSERT_TRUE(t);
  const std::string ex = name("ex"), q = name("q");
  ASSERT_TRUE(t->declareExchange(topicExchange(ex)).ok());
  ASSERT_TRUE(t->declareQueue(boundQueue(q, ex, "key")).ok());
  ASSERT_TRUE(t->consume(q, "c1").ok());
  for (uint64_t i = 1; i <= 3; ++i) {
    auto seq = t->publish(ex, "key", "body-" + std::to_string(i), false, std::nullopt);
    ASSERT_TRUE(seq.ok()) << seq.error().message;
    EXPECT_EQ(*seq, i);  // 1, 2, 3 from the opening of the publish channel
  }
  uint64_t confirmed = 0;
  std::vector<std::string> bodies;
  while (confirmed < 3 || bodies.size() < 3) {
    auto ev = t->poll();
    ASSERT_TRUE(ev.ok()) << ev.error().message;
    if (ev->kind == AmqpEvent::Kind::kConfirm) {
      EXPECT_TRUE(ev->ack);
      EXPECT_GT(ev->delivery_tag, confirmed);  // acks come in order (single or multiple)
      confirmed = ev->delivery_tag;
    } else if (ev->kind == AmqpEvent::Kind::kDelivery) {
      EXPECT_EQ(ev->consumer_tag, "c1");
      EXPECT_EQ(ev->exchange, ex);
      EXPECT_EQ(ev->routing_key, "key");
      EXPECT_EQ(ev->body_size, ev->body.size());
      bodies.push_back(ev->body);
      ASSERT_TRUE(t->ack(ev->delivery_tag).ok());
    } else if (ev->kind == AmqpEvent::Kind::kNone) {
      pollfd p{t->fd(), POLLIN, 0};
      if (!t->hasBufferedInput()) {
        ASSERT_GT(::poll(&p, 1, 10000), 0) << "nothing arrived";
      }
    }
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"body-1", "body-2", "body-3"}));
  EXPECT_TRUE(t->deleteQueue(q).ok());
}

TEST_P(TransportContract, ARedeclarationWithOtherFlagsIsRefusedAndTheConnectionStaysUsable) {
  auto t = open();
  ASSERT_TRUE(t);
  const std::string ex = name("ex"), q = name("q");
  ASSERT_TRUE(t->declareExchange(topicExchange(ex)).ok());
  ASSERT_TRUE(t->declareExchange(topicExchange(ex)).ok());  // the same again: fine
  EXPECT_FALSE(t->declareExchange(ExchangeSpec{ex, "fanout", false, false}).ok());
  EXPECT_TRUE(t->alive());
  ASSERT_TRUE(t->declareQueue(boundQueue(q, ex, "k")).ok());
  QueueSpec other = boundQueue(q, ex, "k");
  other.arguments.clear();  // no x-expires: inequivalent
  auto refused = t->declareQueue(other);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("406"), std::string::npos) << refused.error().message;
  EXPECT_TRUE(t->alive());
  auto unbound = t->declareQueue(boundQueue(name("q2"), name("missing-ex"), "k"));
  ASSERT_FALSE(unbound.ok());
  EXPECT_NE(unbound.error().message.find("404"), std::string::npos) << unbound.error().message;
  EXPECT_TRUE(t->alive());
  EXPECT_TRUE(t->deleteQueue(q).ok());
  EXPECT_TRUE(t->deleteQueue(name("q2")).ok());
}

TEST_P(TransportContract, AnUnroutableMandatoryMessageIsReturnedAndStillConfirmed) {
  auto t = open();
  ASSERT_TRUE(t);
  auto seq = t->publish("", name("nobody"), "{}", /*mandatory=*/true, std::nullopt);
  ASSERT_TRUE(seq.ok());
  const AmqpEvent returned = waitFor(*t, AmqpEvent::Kind::kReturned);
  EXPECT_EQ(returned.routing_key, name("nobody"));
  EXPECT_NE(returned.text.find("NO_ROUTE"), std::string::npos) << returned.text;
  const AmqpEvent confirm = waitFor(*t, AmqpEvent::Kind::kConfirm);
  EXPECT_EQ(confirm.delivery_tag, *seq);
  EXPECT_TRUE(confirm.ack);
}

TEST_P(TransportContract, DeletingAConsumedQueueCancelsItsConsumer) {
  auto consumer = open();
  auto other = open();
  ASSERT_TRUE(consumer && other);
  const std::string q = name("q");
  ASSERT_TRUE(consumer->declareQueue(boundQueue(q, "", "")).ok());
  ASSERT_TRUE(consumer->consume(q, "c-deleted").ok());
  ASSERT_TRUE(other->deleteQueue(q).ok());
  const AmqpEvent cancelled = waitFor(*consumer, AmqpEvent::Kind::kConsumerCancelled);
  EXPECT_EQ(cancelled.consumer_tag, "c-deleted");
  EXPECT_TRUE(consumer->alive());
}

TEST_P(TransportContract, AFanoutExchangeCopiesToEveryBoundQueue) {
  auto t = open();
  ASSERT_TRUE(t);
  const std::string ex = name("fan"), q1 = name("f1"), q2 = name("f2");
  ASSERT_TRUE(t->declareExchange(ExchangeSpec{ex, "fanout", false, true}).ok());
  ASSERT_TRUE(t->declareQueue(boundQueue(q1, ex, "ignored")).ok());
  ASSERT_TRUE(t->declareQueue(boundQueue(q2, ex, "ignored")).ok());
  ASSERT_TRUE(t->consume(q1, "a").ok());
  ASSERT_TRUE(t->consume(q2, "b").ok());
  ASSERT_TRUE(t->publish(ex, "", "copy", false, std::nullopt).ok());
  std::set<std::string> tags;
  for (int i = 0; i < 2; ++i) {
    const AmqpEvent d = waitFor(*t, AmqpEvent::Kind::kDelivery);
    EXPECT_EQ(d.body, "copy");
    tags.insert(d.consumer_tag);
    ASSERT_TRUE(t->ack(d.delivery_tag).ok());
  }
  EXPECT_EQ(tags, (std::set<std::string>{"a", "b"}));
  EXPECT_TRUE(t->deleteQueue(q1).ok());
  EXPECT_TRUE(t->deleteQueue(q2).ok());  // the auto-delete exchange goes with its last queue
  auto seq = t->publish(ex, "", "lost", false, std::nullopt);
  ASSERT_TRUE(seq.ok());
  waitFor(*t, AmqpEvent::Kind::kPublishFailed);  // 404: no such exchange any more
  EXPECT_TRUE(t->alive());
  auto again = t->publish("", name("nobody"), "{}", false, std::nullopt);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 1u);  // a new publish channel numbers from 1
}

TEST_P(TransportContract, UnackedMessagesAreRedeliveredWhenTheConsumerGoes) {
  const std::string q = name("q");
  {
    auto first = open();
    ASSERT_TRUE(first);
    ASSERT_TRUE(first->declareQueue(boundQueue(q, "", "")).ok());
    ASSERT_TRUE(first->publish("", q, "m1", false, std::nullopt).ok());
    ASSERT_TRUE(first->publish("", q, "m2", false, std::nullopt).ok());
    ASSERT_TRUE(first->consume(q, "c").ok());
    EXPECT_EQ(waitFor(*first, AmqpEvent::Kind::kDelivery).body, "m1");
    EXPECT_EQ(waitFor(*first, AmqpEvent::Kind::kDelivery).body, "m2");
    first->close();  // neither acked
  }
  auto second = open();
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->consume(q, "c").ok());
  const AmqpEvent d1 = waitFor(*second, AmqpEvent::Kind::kDelivery);
  const AmqpEvent d2 = waitFor(*second, AmqpEvent::Kind::kDelivery);
  EXPECT_EQ(d1.body, "m1");  // in their order
  EXPECT_EQ(d2.body, "m2");
  EXPECT_TRUE(second->deleteQueue(q).ok());
}

TEST_P(TransportContract, ConsumingAMissingQueueFailsAndLeavesTheConnectionUnusable) {
  auto t = open();
  ASSERT_TRUE(t);
  auto st = t->consume(name("missing"), "c");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("404"), std::string::npos) << st.error().message;
  EXPECT_FALSE(t->alive());
  EXPECT_FALSE(t->poll().ok());
}

TEST_P(TransportContract, ABodyOverTheLimitArrivesWithItsSizeButNotCopied) {
  auto t = open(/*max_body_bytes=*/1024);
  ASSERT_TRUE(t);
  const std::string q = name("q");
  ASSERT_TRUE(t->declareQueue(boundQueue(q, "", "")).ok());
  ASSERT_TRUE(t->consume(q, "c").ok());
  ASSERT_TRUE(t->publish("", q, std::string(1024, 'a'), false, std::nullopt).ok());
  ASSERT_TRUE(t->publish("", q, std::string(1025, 'b'), false, std::nullopt).ok());
  const AmqpEvent fits = waitFor(*t, AmqpEvent::Kind::kDelivery);
  EXPECT_EQ(fits.body_size, 1024u);
  EXPECT_EQ(fits.body, std::string(1024, 'a'));
  const AmqpEvent big = waitFor(*t, AmqpEvent::Kind::kDelivery);
  EXPECT_EQ(big.body_size, 1025u);
  EXPECT_TRUE(big.body.empty());
  EXPECT_TRUE(t->ack(fits.delivery_tag).ok());
  EXPECT_TRUE(t->ack(big.delivery_tag).ok());
  EXPECT_TRUE(t->deleteQueue(q).ok());
}

}  // namespace nwg::rpc::testing

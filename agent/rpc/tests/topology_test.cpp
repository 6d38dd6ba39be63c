// Declare flags and arguments exactly as SPEC §2 (oslo.messaging 14) for every option combination.
#include "rpc/topology.h"

#include <gtest/gtest.h>

namespace nwg::rpc {
namespace {

TEST(TopologyTest, DefaultsMatchTheCapturedDeclarations) {
  Topology t("neutron", config::RabbitOptions{});
  EXPECT_EQ(t.topicExchange(), (ExchangeSpec{"neutron", "topic", false, false}));
  EXPECT_EQ(t.fanoutExchange("q-wireguard-notifier"),
            (ExchangeSpec{"q-wireguard-notifier_fanout", "fanout", false, true}));
  EXPECT_EQ(t.topicQueue("q-wireguard-notifier"),
            (QueueSpec{"q-wireguard-notifier", false, false, false, {}, "neutron", "q-wireguard-notifier"}));
  EXPECT_EQ(t.serverQueue("q-wireguard-notifier", "wg-host-1"),
            (QueueSpec{"q-wireguard-notifier.wg-host-1",
                       false,
                       false,
                       false,
                       {},
                       "neutron",
                       "q-wireguard-notifier.wg-host-1"}));
  EXPECT_EQ(t.fanoutQueue("q-wireguard-notifier", "c66513d6"),
            (QueueSpec{"q-wireguard-notifier_fanout_c66513d6",
                       false,
                       false,
                       false,
                       {{"x-expires", int32_t{1800000}}},
                       "q-wireguard-notifier_fanout",
                       "q-wireguard-notifier"}));
  EXPECT_EQ(t.replyQueue("03d97cd5"),
            (QueueSpec{"reply_03d97cd5", false, false, false, {{"x-expires", int32_t{1800000}}}, "", ""}));
}

TEST(TopologyTest, DurableAndAutoDeleteApplyToTopicObjectsOnly) {
  config::RabbitOptions o;
  o.amqp_durable_queues = true;
  o.amqp_auto_delete = true;
  o.rabbit_transient_queues_ttl = 60;
  Topology t("neutron", o);
  EXPECT_EQ(t.topicExchange(), (ExchangeSpec{"neutron", "topic", true, true}));
  const QueueSpec q = t.topicQueue("q");
  EXPECT_TRUE(q.durable);
  EXPECT_TRUE(q.auto_delete);
  EXPECT_TRUE(q.arguments.empty());
  EXPECT_EQ(t.fanoutExchange("q"), (ExchangeSpec{"q_fanout", "fanout", false, true}));
  const QueueSpec f = t.fanoutQueue("q", "u");
  EXPECT_FALSE(f.durable);
  EXPECT_FALSE(f.auto_delete);
  EXPECT_EQ(f.arguments, (std::vector<QueueArgument>{{"x-expires", int32_t{60000}}}));
}

TEST(TopologyTest, QuorumQueuesAreDurableTopicQueues) {
  config::RabbitOptions o;
  o.rabbit_quorum_queue = true;
  Topology t("neutron", o);
  const QueueSpec q = t.serverQueue("q-plugin", "h");
  EXPECT_TRUE(q.durable);
  EXPECT_EQ(q.arguments, (std::vector<QueueArgument>{{"x-queue-type", std::string("quorum")}}));
  EXPECT_TRUE(t.topicExchange().durable);
  EXPECT_EQ(t.replyQueue("u").arguments, (std::vector<QueueArgument>{{"x-expires", int32_t{1800000}}}));
}

TEST(TopologyTest, HaQueuesEverywhere) {
  config::RabbitOptions o;
  o.rabbit_ha_queues = true;
  Topology t("neutron", o);
  EXPECT_EQ(t.topicQueue("q").arguments, (std::vector<QueueArgument>{{"x-ha-policy", std::string("all")}}));
  EXPECT_EQ(t.replyQueue("u").arguments, (std::vector<QueueArgument>{{"x-ha-policy", std::string("all")},
                                                                     {"x-expires", int32_t{1800000}}}));
}

}  // namespace
}  // namespace nwg::rpc

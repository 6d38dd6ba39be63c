// oslo_messaging/_drivers/impl_rabbit.py declare_topic_consumer / declare_fanout_consumer /
// declare_direct_consumer / topic_send / fanout_send and _get_queue_arguments.
#include "rpc/topology.h"

namespace nwg::rpc {

ExchangeSpec Topology::topicExchange() const {
  return ExchangeSpec{exchange_, "topic", options_.durable(), options_.amqp_auto_delete};
}

ExchangeSpec Topology::fanoutExchange(const std::string& topic) const {
  return ExchangeSpec{topic + "_fanout", "fanout", false, true};
}

QueueSpec Topology::topicQueue(const std::string& topic) const {
  QueueSpec q;
  q.name = topic;
  q.durable = options_.durable();
  q.auto_delete = options_.amqp_auto_delete;
  if (options_.rabbit_ha_queues) q.arguments.push_back({"x-ha-policy", std::string("all")});
  if (options_.rabbit_quorum_queue) q.arguments.push_back({"x-queue-type", std::string("quorum")});
  q.bind_exchange = exchange_;
  q.routing_key = topic;
  return q;
}

QueueSpec Topology::serverQueue(const std::string& topic, const std::string& server) const {
  QueueSpec q = topicQueue(topic + "." + server);
  return q;
}

std::vector<QueueArgument> Topology::transientArguments() const {
  std::vector<QueueArgument> args;
  if (options_.rabbit_ha_queues) args.push_back({"x-ha-policy", std::string("all")});
  if (options_.rabbit_transient_queues_ttl > 0) {
    args.push_back({"x-expires", static_cast<int32_t>(options_.rabbit_transient_queues_ttl * 1000)});
  }
  return args;
}

QueueSpec Topology::fanoutQueue(const std::string& topic, const std::string& unique_hex) const {
  QueueSpec q;
  q.name = topic + "_fanout_" + unique_hex;
  q.arguments = transientArguments();
  q.bind_exchange = topic + "_fanout";
  q.routing_key = topic;
  return q;
}

QueueSpec Topology::replyQueue(const std::string& unique_hex) const {
  QueueSpec q;
  q.name = "reply_" + unique_hex;
  q.arguments = transientArguments();
  return q;
}

}  // namespace nwg::rpc

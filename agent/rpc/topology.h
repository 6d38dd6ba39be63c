// Names and declare flags/arguments of every AMQP exchange and queue, exactly as oslo.messaging (Zed)
// declares them for the configured [oslo_messaging_rabbit] options (SPEC §2). The broker refuses a
// declaration whose flags differ from an existing object's (406), so these must match neutron-server's.
// Pure: unit-tested against the SPEC table.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "config/rabbit_options.h"

namespace nwg::rpc {

struct ExchangeSpec {
  std::string name;
  std::string type;  // "topic" | "fanout"
  bool durable = false;
  bool auto_delete = false;
  bool operator==(const ExchangeSpec&) const = default;
};

struct QueueArgument {
  std::string key;
  std::variant<int32_t, std::string> value;  // x-expires is a signed 32-bit int (py-amqp's 'I')
  bool operator==(const QueueArgument&) const = default;
};

struct QueueSpec {
  std::string name;
  bool durable = false;
  bool exclusive = false;
  bool auto_delete = false;
  std::vector<QueueArgument> arguments;
  std::string bind_exchange;  // "" : not bound (reply queues use the default exchange)
  std::string routing_key;
  bool operator==(const QueueSpec&) const = default;
};

class Topology {
 public:
  Topology(std::string control_exchange, config::RabbitOptions options)
      : exchange_(std::move(control_exchange)), options_(std::move(options)) {}

  const std::string& controlExchange() const { return exchange_; }

  // The control exchange (topic) that calls and casts are published to.
  ExchangeSpec topicExchange() const;
  // "<topic>_fanout" (fanout, auto-delete).
  ExchangeSpec fanoutExchange(const std::string& topic) const;

  // "<topic>": shared by every server of the topic.
  QueueSpec topicQueue(const std::string& topic) const;
  // "<topic>.<server>": this server only.
  QueueSpec serverQueue(const std::string& topic, const std::string& server) const;
  // "<topic>_fanout_<hex>": one per consumer, expires rabbit_transient_queues_ttl after its last use.
  QueueSpec fanoutQueue(const std::string& topic, const std::string& unique_hex) const;
  // "reply_<hex>": one per process, for the replies to its calls.
  QueueSpec replyQueue(const std::string& unique_hex) const;

 private:
  std::vector<QueueArgument> transientArguments() const;

  std::string exchange_;
  config::RabbitOptions options_;
};

}  // namespace nwg::rpc

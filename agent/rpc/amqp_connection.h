// One AMQP 0-9-1 connection over rabbitmq-c: TCP or TLS, PLAIN/EXTERNAL login, heartbeats, three channels
// (publish in confirm mode, consume, declare) and non-blocking reads of what the broker sent.
// rabbitmq-c is not thread-safe per connection: an AmqpConnection belongs to one thread (RpcClient's
// I/O thread). Every error names the broker and the operation.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "config/rabbit_options.h"
#include "rpc/topology.h"

namespace nwg::rpc {

struct AmqpConnectOptions {
  std::string host;
  uint16_t port = 5672;
  std::string username;
  std::string password;
  std::string vhost = "/";
  config::RabbitOptions rabbit;  // ssl*, heartbeat_timeout_threshold, rabbit_login_method, qos
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds rpc_timeout{15000};  // a declare/consume the broker does not answer
  std::string connection_name;                   // shown by rabbitmqctl list_connections
};

// Something the broker sent, read by AmqpConnection::poll().
struct AmqpEvent {
  enum class Kind {
    kNone,               // nothing buffered or readable now
    kDelivery,           // a message for one of our consumers
    kConfirm,            // publisher confirm: ack or nack of publish sequence numbers up to `delivery_tag`
    kReturned,           // a mandatory message the broker could not route
    kPublishFailed,      // the broker closed the publish channel (reopened): unconfirmed publishes are lost
    kConsumerCancelled,  // the broker cancelled a consumer (its queue was deleted)
  };
  Kind kind = Kind::kNone;
  std::string consumer_tag;
  uint64_t delivery_tag = 0;
  bool multiple = false;  // kConfirm: every tag up to delivery_tag
  bool ack = true;        // kConfirm: false for a nack
  std::string exchange;
  std::string routing_key;
  std::string body;
  std::string text;  // kReturned / kPublishFailed: the broker's reply text
};

class AmqpConnection {
 public:
  static constexpr uint16_t kPublishChannel = 1;
  static constexpr uint16_t kConsumeChannel = 2;
  static constexpr uint16_t kDeclareChannel = 3;

  // Connects, logs in, opens the channels, puts the publish channel in confirm mode.
  static Result<std::unique_ptr<AmqpConnection>> open(const AmqpConnectOptions& options);
  ~AmqpConnection();
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  // The socket to poll(2) for input. Check hasBufferedInput() first: rabbitmq-c may have read ahead.
  int fd() const;
  bool hasBufferedInput() const;
  // Negotiated heartbeat in seconds (0: none).
  int heartbeat() const;
  const std::string& peer() const { return peer_; }
  // False once the connection failed (socket error, heartbeat timeout, broker closed it): discard it.
  bool alive() const;

  // Declarations go through the declare channel: a refusal (406 PRECONDITION_FAILED when flags differ
  // from an existing object) is returned with the broker's text, and only that channel is reopened.
  Status declareExchange(const ExchangeSpec& exchange);
  Status declareQueue(const QueueSpec& queue);  // and binds it when it names an exchange
  Status deleteQueue(const std::string& queue);
  Status consume(const std::string& queue, const std::string& consumer_tag);
  Status cancel(const std::string& consumer_tag);

  // Publishes with oslo's properties (content_type application/json, utf-8, delivery_mode 2, priority 0,
  // empty headers) and `expiration_ms` on call requests. Returns the publisher-confirm sequence number.
  Result<uint64_t> publish(const std::string& exchange, const std::string& routing_key, std::string_view body,
                           bool mandatory, std::optional<int64_t> expiration_ms);

  Status ack(uint64_t delivery_tag);

  // Reads at most one event without blocking. Also sends a heartbeat when one is due and notices a
  // silent broker. An error means the connection is unusable.
  Result<AmqpEvent> poll();

  // Frees rabbitmq-c's frame memory once nothing is queued (call after a batch of poll()s).
  void releaseBuffers();

  // Closes channels and connection politely (best effort).
  void close();

 private:
  struct State;
  explicit AmqpConnection(std::unique_ptr<State> state);
  Status openChannel(uint16_t channel);
  Status checkReply(std::string_view what, uint16_t channel);

  std::unique_ptr<State> s_;
  std::string peer_;
  uint64_t next_publish_seq_ = 1;
};

}  // namespace nwg::rpc

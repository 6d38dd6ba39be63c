// The seam under RpcClient: what it needs from one AMQP 0-9-1 connection (declare, consume, publish with
// publisher confirms, ack, read events without blocking) and a factory that opens one. AmqpConnection
// (rabbitmq-c) is the real transport; FakeAmqpTransport (rpc/testing) models a broker for unit tests.
// The contract suite (tests/transport_contract.*) runs against both, so the fake stays honest.
//
// A transport belongs to one thread (RpcClient's I/O thread). Only ConnectInterrupt is shared.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "config/rabbit_options.h"
#include "rpc/topology.h"
#include "rpc/wake_event.h"

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
  // A delivered body larger than this is not copied: the event carries its size and an empty body.
  size_t max_body_bytes = 64u << 20;
};

// Something the broker sent, read by AmqpTransport::poll().
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
  std::string body;      // empty when body_size > max_body_bytes (not copied)
  size_t body_size = 0;  // kDelivery: the size the broker delivered
  std::string text;      // kReturned / kPublishFailed: the broker's reply text (raw: sanitize to log)
};

// Lets another thread (RpcClient::stop()) end a connection attempt or a connection. request() asks the
// opener to give up at its next check and wakes it (the wake fd is polled during a TCP connect); fire()
// also shuts the armed socket down (shutdown(2), never close: the descriptor stays the opener's), so a
// call blocked inside the AMQP library (login, a declare to a silent broker) returns at once. The socket
// is armed by whoever opened it and disarmed before it is closed.
class ConnectInterrupt {
 public:
  explicit ConnectInterrupt(const WakeEvent* wake = nullptr) : wake_(wake) {}

  // Readable after request() (-1: none).
  int wakeFd() const { return wake_ ? wake_->fd() : -1; }
  bool requested() const;
  // Consumes wake-ups that woke an opener for other reasons (the client's outgoing work), so that its
  // poll does not spin; the I/O loop looks at its queue after connecting anyway.
  void drainWake() const;
  void request();
  void fire();
  void arm(int socket_fd);
  void disarm();

 private:
  void shutdownLocked();

  mutable std::mutex mu_;
  const WakeEvent* wake_;
  int armed_fd_ = -1;
  bool requested_ = false;
  bool fired_ = false;
};

class AmqpTransport {
 public:
  virtual ~AmqpTransport() = default;

  // The descriptor to poll(2) for input (the socket, or the fake's event fd). Check hasBufferedInput()
  // first: rabbitmq-c may have read ahead.
  virtual int fd() const = 0;
  virtual bool hasBufferedInput() const = 0;
  // Negotiated heartbeat in seconds (0: none).
  virtual int heartbeat() const = 0;
  // "host:port" for messages.
  virtual const std::string& peer() const = 0;
  // False once the connection failed (socket error, heartbeat timeout, broker closed it): discard it.
  virtual bool alive() const = 0;

  // A refused declaration (406 PRECONDITION_FAILED when flags differ from an existing object, 404 for a
  // bind to a missing exchange) is returned with the broker's text and leaves the connection usable.
  virtual Status declareExchange(const ExchangeSpec& exchange) = 0;
  virtual Status declareQueue(const QueueSpec& queue) = 0;  // and binds it when it names an exchange
  virtual Status deleteQueue(const std::string& queue) = 0;
  // A refused consume (missing queue) leaves the connection unusable (every consumer is gone).
  virtual Status consume(const std::string& queue, const std::string& consumer_tag) = 0;
  virtual Status cancel(const std::string& consumer_tag) = 0;

  // Publishes with oslo's properties (content_type application/json, utf-8, delivery_mode 2, priority 0,
  // empty headers) and `expiration_ms` on call requests. Returns the publisher-confirm sequence number:
  // 1, 2, 3... from the opening of the publish channel (again from 1 after kPublishFailed).
  virtual Result<uint64_t> publish(const std::string& exchange, const std::string& routing_key,
                                   std::string_view body, bool mandatory,
                                   std::optional<int64_t> expiration_ms) = 0;

  virtual Status ack(uint64_t delivery_tag) = 0;

  // Reads at most one event without blocking. Also services heartbeats. An error means the connection
  // is unusable.
  virtual Result<AmqpEvent> poll() = 0;

  // Frees buffered frame memory once nothing is queued (after a batch of poll()s).
  virtual void releaseBuffers() = 0;

  // Closes politely (best effort, bounded); the transport is dead afterwards.
  virtual void close() = 0;
};

class AmqpTransportFactory {
 public:
  virtual ~AmqpTransportFactory() = default;

  // Connects, logs in, opens channels, enables publisher confirms. Ends early with an error once
  // `interrupt` fires (see AmqpConnection::open for what cannot be interrupted). `interrupt` must
  // outlive the transport (it stays armed with the transport's socket).
  virtual Result<std::unique_ptr<AmqpTransport>> open(const AmqpConnectOptions& options,
                                                      ConnectInterrupt& interrupt) = 0;
};

}  // namespace nwg::rpc

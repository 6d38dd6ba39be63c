// One AMQP 0-9-1 connection over rabbitmq-c, the real AmqpTransport: TCP or TLS, PLAIN/EXTERNAL login,
// heartbeats, three channels (publish in confirm mode, consume, declare) and non-blocking reads of what
// the broker sent. rabbitmq-c is not thread-safe per connection: an AmqpConnection belongs to one thread
// (RpcClient's I/O thread). Every error names the broker and the operation.
//
// TLS verifies the broker by default: its certificate chain against ssl_ca_file (or the system CAs,
// kSystemCaFile) and the host name or IP address of the transport_url against the certificate
// (subjectAltName, RFC 6125 rules, by OpenSSL). ssl_verify_broker_certificate = false turns both off,
// ssl_enforce_hostname_verification = false only the name check.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "rpc/amqp_transport.h"

namespace nwg::rpc {

class AmqpConnection final : public AmqpTransport {
 public:
  // Debian's bundle of the system's trusted CAs (ca-certificates), used when ssl_ca_file is empty.
  static constexpr const char* kSystemCaFile = "/etc/ssl/certs/ca-certificates.crt";

  static constexpr uint16_t kPublishChannel = 1;
  static constexpr uint16_t kConsumeChannel = 2;
  static constexpr uint16_t kDeclareChannel = 3;

  // Connects, logs in, opens the channels, puts the publish channel in confirm mode. `interrupt` ends
  // the attempt early: a TCP connect at once (it polls the interrupt's wake fd); the login and channel
  // opens at once when fired (the socket is armed from the moment it exists); a TLS connect and
  // handshake only at their end, after at most connect_timeout (rabbitmq-c makes that socket itself).
  // Name resolution (getaddrinfo) cannot be interrupted either. The connection stays armed until it is
  // destroyed, so fire() also ends a blocked declare or a polite close.
  static Result<std::unique_ptr<AmqpConnection>> open(const AmqpConnectOptions& options,
                                                      ConnectInterrupt* interrupt = nullptr);
  ~AmqpConnection() override;
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  // The socket to poll(2) for input. Check hasBufferedInput() first: rabbitmq-c may have read ahead.
  int fd() const override;
  bool hasBufferedInput() const override;
  // Negotiated heartbeat in seconds (0: none).
  int heartbeat() const override;
  const std::string& peer() const override { return peer_; }
  // False once the connection failed (socket error, heartbeat timeout, broker closed it): discard it.
  bool alive() const override;

  // Declarations go through the declare channel: a refusal (406 PRECONDITION_FAILED when flags differ
  // from an existing object) is returned with the broker's text, and only that channel is reopened.
  Status declareExchange(const ExchangeSpec& exchange) override;
  Status declareQueue(const QueueSpec& queue) override;  // and binds it when it names an exchange
  Status deleteQueue(const std::string& queue) override;
  Status consume(const std::string& queue, const std::string& consumer_tag) override;
  Status cancel(const std::string& consumer_tag) override;

  // Publishes with oslo's properties (content_type application/json, utf-8, delivery_mode 2, priority 0,
  // empty headers) and `expiration_ms` on call requests. Returns the publisher-confirm sequence number.
  Result<uint64_t> publish(const std::string& exchange, const std::string& routing_key, std::string_view body,
                           bool mandatory, std::optional<int64_t> expiration_ms) override;

  Status ack(uint64_t delivery_tag) override;

  // Reads at most one event without blocking. Also sends a heartbeat when one is due and notices a
  // silent broker. An error means the connection is unusable.
  Result<AmqpEvent> poll() override;

  // Frees rabbitmq-c's frame memory once nothing is queued (call after a batch of poll()s).
  void releaseBuffers() override;

  // Closes channels and connection politely (best effort).
  void close() override;

 private:
  struct State;
  explicit AmqpConnection(std::unique_ptr<State> state);
  Status openChannel(uint16_t channel);
  Status checkReply(std::string_view what, uint16_t channel);

  std::unique_ptr<State> s_;
  std::string peer_;
  size_t max_body_bytes_ = 0;
  uint64_t next_publish_seq_ = 1;
};

// Opens AmqpConnections: the factory RpcClient uses unless a test gives it another.
class AmqpConnectionFactory final : public AmqpTransportFactory {
 public:
  Result<std::unique_ptr<AmqpTransport>> open(const AmqpConnectOptions& options,
                                              ConnectInterrupt& interrupt) override;
};

}  // namespace nwg::rpc

// A model of a RabbitMQ broker for unit tests, and FakeAmqpTransport, an AmqpTransport connected to it.
// It models what RpcClient relies on: exchanges (topic with exact routing keys, fanout, the default
// exchange), queues with their flags and arguments (a redeclaration with other flags is refused, 406),
// bindings, consumers (round robin), deliveries with manual acks (unacked messages go back to the front
// of their queue when a connection dies), publisher confirms (ack, nack or held, sequence numbers per
// publish channel), mandatory returns, a publish to a missing exchange closing the publish channel,
// consumer cancellation when a queue is deleted, and auto-delete exchanges. It does not model
// heartbeats, message TTLs, x-expires, topic wildcards or flow control. The transport contract suite
// (tests/transport_contract.*) runs against it and against RabbitMQ, so it models them honestly.
//
// Failure injection: refuse or hold connection attempts, make the nth next operation of a kind fail
// (the connection dies) or throw, drop every connection (a broker restart).
//
// Thread-safe: the test thread drives the broker while the client's I/O thread uses its transport.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rpc/amqp_transport.h"
#include "rpc/wake_event.h"

namespace nwg::rpc {

class FakeBroker : public std::enable_shared_from_this<FakeBroker> {
 public:
  enum class Op {
    kOpen,
    kDeclareExchange,
    kDeclareQueue,
    kDeleteQueue,
    kConsume,
    kCancel,
    kPublish,
    kAck,
    kPoll
  };
  enum class ConfirmMode { kAck, kNack, kHold };

  struct Published {
    uint64_t connection = 0;  // 0: injected by the test (a peer)
    std::string exchange;
    std::string routing_key;
    std::string body;
    bool mandatory = false;
    std::optional<int64_t> expiration_ms;
  };

  static std::shared_ptr<FakeBroker> create() { return std::shared_ptr<FakeBroker>(new FakeBroker()); }

  // The factory to give RpcClient.
  std::shared_ptr<AmqpTransportFactory> factory();

  // --- failure injection
  void refuseConnections(std::string why);  // every open() fails, until allowConnections()
  void allowConnections();
  void holdConnections();  // open() waits (interruptibly) until releaseConnections()
  void releaseConnections();
  // Blocks until an open() is waiting in holdConnections() (false at the timeout).
  bool waitForHeldOpen(std::chrono::milliseconds timeout);
  // The nth next `op` (1: the next one) fails and kills its connection (kOpen: the attempt fails); only
  // `op`s on the nth connection opened count when `connection` is not 0.
  void failAt(Op op, size_t nth = 1, uint64_t connection = 0);
  // The nth next `op` throws std::runtime_error (a transport bug).
  void throwAt(Op op, size_t nth = 1, uint64_t connection = 0);
  // Every open connection dies, as in a broker restart (queues and messages stay).
  void dropConnections(const std::string& why);
  void setConfirmMode(ConfirmMode mode);
  // Confirms every held publish of every connection (one multiple ack/nack per connection).
  void settleHeld(bool ack);

  // --- what a peer does: publish as if from another connection (routed, no confirm)
  void inject(const std::string& exchange, const std::string& routing_key, const std::string& body);

  // --- inspection
  std::vector<Published> published() const;
  bool hasQueue(const std::string& name) const;
  bool hasExchange(const std::string& name) const;
  size_t ready(const std::string& queue) const;     // messages waiting in the queue
  std::vector<std::string> consumedQueues() const;  // every queue with a consumer, sorted
  size_t attempts() const;                          // open() calls so far (refused ones too)
  size_t opened() const;                            // connections opened so far
  size_t openConnections() const;                   // alive now
  // The queues consumed by the nth connection opened (1-based), in the order consumed.
  std::vector<std::string> consumedBy(size_t connection) const;
  size_t heldConfirms() const;

 private:
  friend class FakeAmqpTransport;
  friend class FakeTransportFactory;

  struct Message {
    std::string exchange;
    std::string routing_key;
    std::string body;
  };
  struct Queue {
    QueueSpec spec;
    std::deque<Message> ready;
    std::vector<std::pair<uint64_t, std::string>> consumers;  // (connection, tag)
    size_t next_consumer = 0;
  };
  struct Exchange {
    ExchangeSpec spec;
    std::vector<std::pair<std::string, std::string>> bindings;  // (queue, routing key)
  };
  struct Unacked {
    std::string queue;
    Message message;
  };
  struct Conn {
    uint64_t id = 0;
    bool alive = true;
    std::string why_dead;
    std::shared_ptr<WakeEvent> event_fd;
    std::deque<AmqpEvent> events;
    uint64_t next_seq = 1;
    uint64_t next_delivery = 1;
    size_t max_body_bytes = 0;
    std::map<uint64_t, Unacked> unacked;
    std::map<std::string, std::string> consumers;  // tag -> queue
    std::vector<uint64_t> held;                    // unconfirmed sequence numbers
    std::vector<std::string> consumed;             // queue names, in order
  };

  FakeBroker() = default;

  Result<uint64_t> openLocked(const AmqpConnectOptions& options, std::unique_lock<std::mutex>& lock,
                              ConnectInterrupt& interrupt);
  // Counts `op` for the failure injection; an error when this one is to fail (the connection dies).
  Status injectLocked(Op op, Conn* conn);
  Conn* connLocked(uint64_t id);
  void killLocked(Conn& conn, const std::string& why);
  void pushLocked(Conn& conn, AmqpEvent event);
  void routeLocked(const std::string& exchange, const std::string& routing_key, const std::string& body,
                   bool mandatory, Conn* publisher);
  void deliverLocked(const std::string& queue);
  void removeQueueLocked(const std::string& name);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Exchange> exchanges_;
  std::map<std::string, Queue> queues_;
  std::map<uint64_t, std::unique_ptr<Conn>> conns_;  // every connection ever opened (dead ones too)
  uint64_t next_conn_ = 1;
  size_t attempts_ = 0;
  std::optional<std::string> refuse_;
  bool hold_ = false;
  size_t held_opens_ = 0;
  struct Injection {
    size_t nth = 0;
    uint64_t connection = 0;  // 0: any
  };
  std::map<Op, Injection> fail_at_;
  std::map<Op, Injection> throw_at_;
  ConfirmMode confirm_mode_ = ConfirmMode::kAck;
  std::vector<Published> published_;
};

}  // namespace nwg::rpc

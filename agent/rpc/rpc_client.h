// oslo.messaging RPC over RabbitMQ for the agent: calls, casts and fanout casts to Neutron, and consumers
// that serve calls / receive notifications on topics, wire-compatible with oslo.messaging 14 (Zed).
//
// RpcClient is the caller API and the I/O loop; the rest lives in its own units (docs/rpc-client.md):
// ReplyWaiter (callers waiting for replies and confirms), ConfirmLedger (publish sequence numbers), RpcServer
// (subscriptions and dispatch), AmqpTransport (the connection: AmqpConnection, or a fake in unit tests).
//
// Threading: one I/O thread owns the connection (rabbitmq-c is not thread-safe per connection). It is woken
// through an eventfd for outgoing work and otherwise sleeps in poll(2) on the socket, waking at least
// every second to service heartbeats. call()/cast() may be made from any other thread: they queue the
// message and wait in ReplyWaiter until the reply (or confirm), the deadline, or stop(). Dispatchers of
// subscriptions and the reconnect handler run on the I/O thread and must only enqueue or mark work.
//
// Connection loss: the I/O thread reconnects with oslo's backoff (rabbit_retry_interval +
// n * rabbit_retry_backoff, at most rabbit_interval_max), trying the transport_url hosts in turn,
// re-declares the reply queue and every subscription, then calls the reconnect handler once (the agent
// does a full resync). Calls and casts in flight when the connection broke fail with kConnectionLost;
// those not yet sent are sent, in the order they were made, once connected, or fail with kConnectionLost
// at their deadline.
//
// Faults: no exception leaves the I/O thread. An exception escaping a step of the loop (a bug, or
// std::bad_alloc) is logged; the connection is dropped, every call and cast in flight or queued fails
// with kConnectionLost (a message that made the loop throw must not make it throw forever), and the
// thread reconnects after the backoff, as after a connection loss. It ends only through stop().
//
// Shutdown: stop() fails every waiting call and cast with kShutdown at once, then lets the I/O thread
// close politely (cancel consumers, delete our fanout queues) for at most kStopGrace before shutting the
// socket down under it, and joins it. A connection attempt in progress is interrupted at once (TCP
// connect, login, declarations), except a TLS connect and handshake, which rabbitmq-c runs to their end:
// at most connect_timeout (5 s); and name resolution (getaddrinfo), which the resolver bounds. So stop()
// returns within kStopGrace plus a few milliseconds, or connect_timeout during a TLS connect.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "config/rabbit_options.h"
#include "config/transport_url.h"
#include "logging/log.h"
#include "rpc/amqp_transport.h"
#include "rpc/confirm_ledger.h"
#include "rpc/duplicate_filter.h"
#include "rpc/json_limits.h"
#include "rpc/reply_waiter.h"
#include "rpc/rpc_caller.h"
#include "rpc/rpc_dispatcher.h"
#include "rpc/rpc_server.h"
#include "rpc/topology.h"
#include "rpc/wake_event.h"

namespace nwg::rpc {

// What the client needs to know; the daemon maps the agent's configuration to it
// (daemon/rpc_client_options.h).
struct RpcClientOptions {
  config::TransportUrl transport_url;
  config::RabbitOptions rabbit;
  std::string control_exchange = "neutron";
  std::string host;  // this server's name: subscriptions also consume "<topic>.<host>"
  std::chrono::milliseconds default_timeout{60000};
  std::chrono::milliseconds connect_timeout{5000};
  std::string program = "neutron-wireguard-agent";  // prefix of the AMQP connection_name
  bool shuffle_hosts = true;  // oslo shuffles a multi-host transport_url once; tests fix the order
  JsonLimits limits;          // on every body received (requests and replies)
};

class RpcClient final : public RpcCaller {
 public:
  using ReconnectHandler = std::function<void()>;

  // How long stop() lets the I/O thread close politely before shutting its socket down.
  static constexpr std::chrono::milliseconds kStopGrace{1000};

  // `transport` opens connections (AmqpConnectionFactory when null).
  explicit RpcClient(RpcClientOptions options,
                     logging::Log log = logging::Log("networking_wireguard.agent.rpc"),
                     std::shared_ptr<AmqpTransportFactory> transport = nullptr);
  ~RpcClient() override;  // stop()
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // Called on the I/O thread after each re-established connection (not the first one), once the reply
  // queue and every subscription are declared again. Set it before start(). An exception it throws is
  // logged and ends nothing.
  void onReconnect(ReconnectHandler handler);

  // Consumes `topic` as an oslo RPC server does (RpcServer). When connected, returns once declared (with
  // the broker's refusal, if any); before start() or while disconnected it returns at once and the
  // declaration happens on connect.
  Status subscribe(const std::string& topic, std::shared_ptr<const RpcDispatcher> dispatcher);

  // Starts the I/O thread, which connects in the background (and keeps retrying). Fails when the client
  // has no wake-up eventfd or the thread cannot be created.
  Status start();
  // True once connected (false at the timeout, or once stopping).
  bool waitConnected(std::chrono::milliseconds timeout);
  bool connected() const { return connected_.load(); }
  // See "Shutdown" above. Idempotent; callable from any thread but the I/O thread.
  void stop();

  RpcResult<nlohmann::json> call(const RpcTarget& target, const std::string& method, nlohmann::json args,
                                 std::optional<std::chrono::milliseconds> timeout = std::nullopt) override;
  RpcStatus cast(const RpcTarget& target, const std::string& method, nlohmann::json args) override;

  const std::string& replyQueue() const { return reply_queue_; }
  // Connections established after the first (for tests and the agent's status).
  uint64_t reconnects() const { return reconnects_.load(); }
  // Messages waiting to be sent (for tests and the agent's status).
  size_t queued() const;

 private:
  using Clock = std::chrono::steady_clock;

  struct Outgoing {
    enum class Exchange { kTopic, kFanout };
    Exchange exchange_kind = Exchange::kTopic;
    std::string topic;  // names the fanout exchange
    std::string exchange;
    std::string routing_key;
    std::string body;
    bool set_expiration = false;
    Clock::time_point deadline;
    std::string what;
    std::string id;  // its ReplyWaiter id: a call's _msg_id, or "cast-<uuid>"
    bool cast = false;
  };
  struct NewSubscription {
    std::string topic;
    std::shared_ptr<const RpcDispatcher> dispatcher;
    std::shared_ptr<std::promise<Status>> declared;
  };

  // Moves the subscriptions made since the last call into the server's list; returns each one's
  // index there with its promise (to be told how its declaration went).
  std::vector<std::pair<size_t, std::shared_ptr<std::promise<Status>>>> adoptNewSubscriptions();
  std::string prepareCall(const RpcTarget& target, const std::string& method, nlohmann::json args,
                          std::chrono::milliseconds timeout, Outgoing& out);
  void enqueue(Outgoing out);
  void wake();
  bool stopping() const;
  void run();
  void step();
  void onFault(const std::string& what);
  void backoffWait(std::chrono::milliseconds delay);
  bool connect();
  void dropConnection(const std::string& reason);
  void failQueued(RpcErrorKind kind, const std::string& cause);
  void shutdownOnIoThread();
  void drainCommands();
  bool publish(Outgoing& out);  // false: the connection failed (out was not consumed)
  void handle(AmqpEvent& event);
  void handleReply(const AmqpEvent& delivery);
  std::chrono::milliseconds backoff(size_t failures) const;
  int pollTimeoutMs() const;
  void waitWake(int other_fd, int timeout_ms);

  const RpcClientOptions options_;
  const Topology topology_;
  const logging::Log log_;
  const std::string reply_queue_;
  const std::string connection_id_;
  std::vector<config::TransportHost> hosts_;  // shuffled once when there are several, as oslo does
  std::shared_ptr<AmqpTransportFactory> factory_;
  std::string wake_error_;  // why there is no wake_ (start() refuses)
  const std::optional<WakeEvent> wake_;
  ConnectInterrupt interrupt_;
  ReplyWaiter waiter_;

  // Shared between callers and the I/O thread.
  mutable std::mutex mu_;
  std::condition_variable cv_;  // connected, stopping, I/O thread ended
  std::deque<Outgoing> outgoing_;
  std::vector<NewSubscription> new_subscriptions_;
  ReconnectHandler reconnect_handler_;
  std::string last_error_;
  bool stopping_ = false;
  bool started_ = false;
  bool io_ended_ = false;
  std::atomic<bool> connected_{false};
  std::atomic<bool> connecting_{false};   // in connect(): stop() shuts the socket down at once
  std::atomic<bool> wake_broken_{false};  // a wake-up failed: the loop polls on a short timer instead
  std::atomic<uint64_t> reconnects_{0};
  std::mutex stop_mu_;  // one stop() at a time (it joins)
  std::thread io_thread_;

  // I/O thread only.
  std::unique_ptr<AmqpTransport> conn_;
  RpcServer server_;
  ConfirmLedger ledger_;
  std::set<std::string> declared_exchanges_;
  DuplicateFilter reply_seen_;
  bool ever_connected_ = false;
  size_t attempt_ = 0;   // connection attempts (picks the host)
  size_t failures_ = 0;  // consecutive failed attempts (the backoff)
};

}  // namespace nwg::rpc

// oslo.messaging RPC over RabbitMQ for the agent: calls, casts and fanout casts to Neutron, and consumers
// that serve calls / receive notifications on topics, wire-compatible with oslo.messaging 14 (Zed).
//
// Threading: one I/O thread owns the AMQP connection (rabbitmq-c is not thread-safe per connection). It
// is woken through an eventfd for outgoing work and otherwise sleeps in poll(2) on the socket, waking at
// least every second to service heartbeats. call()/cast() may be made from any other thread: they queue
// the message and block on their own condition until the reply (or confirm) or the deadline. Dispatchers
// of subscriptions and the reconnect handler run on the I/O thread and must only enqueue or mark work.
//
// Connection loss: the I/O thread reconnects with oslo's backoff (rabbit_retry_interval +
// n * rabbit_retry_backoff, at most rabbit_interval_max), trying the transport_url hosts in turn,
// re-declares the reply queue and every subscription, then calls the reconnect handler (the agent does a
// full resync). Calls in flight when the connection broke fail with kConnectionLost; calls made while
// disconnected are sent once connected, or fail with kConnectionLost at their deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "config/agent_config.h"
#include "config/rabbit_options.h"
#include "config/transport_url.h"
#include "logging/log.h"
#include "rpc/duplicate_filter.h"
#include "rpc/reply_waiter.h"
#include "rpc/rpc_caller.h"
#include "rpc/rpc_dispatcher.h"
#include "rpc/topology.h"

namespace nwg::rpc {

class AmqpConnection;
struct AmqpEvent;

struct RpcClientOptions {
  config::TransportUrl transport_url;
  config::RabbitOptions rabbit;
  std::string control_exchange = "neutron";
  std::string host;  // this server's name: subscriptions also consume "<topic>.<host>"
  std::chrono::milliseconds default_timeout{60000};
  std::string program = "neutron-wireguard-agent";  // prefix of the AMQP connection_name
  bool shuffle_hosts = true;  // oslo shuffles a multi-host transport_url once; tests fix the order

  // [DEFAULT] transport_url, control_exchange, rpc_response_timeout, host and [oslo_messaging_rabbit].
  static RpcClientOptions fromConfig(const config::AgentConfig& config);
};

class RpcClient final : public RpcCaller {
 public:
  using ReconnectHandler = std::function<void()>;

  explicit RpcClient(RpcClientOptions options,
                     logging::Log log = logging::Log("networking_wireguard.agent.rpc"));
  ~RpcClient() override;  // stop()
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // Called on the I/O thread after each re-established connection (not the first one), once the reply
  // queue and every subscription are declared again. Set it before start().
  void onReconnect(ReconnectHandler handler);

  // Consumes `topic` as an oslo RPC server does: queues "<topic>" and "<topic>.<host>" on the control
  // exchange and "<topic>_fanout_<uuid>" on "<topic>_fanout" (SPEC §2). Messages are acked on delivery,
  // duplicates dropped, and dispatched on the I/O thread; calls are answered. Declared again after every
  // reconnect. When connected, returns once declared (with the broker's refusal, if any); before start()
  // or while disconnected it returns at once and the declaration happens on connect.
  Status subscribe(const std::string& topic, std::shared_ptr<const RpcDispatcher> dispatcher);

  // Starts the I/O thread, which connects in the background (and keeps retrying).
  void start();
  // True once connected (false at the timeout).
  bool waitConnected(std::chrono::milliseconds timeout);
  bool connected() const { return connected_.load(); }
  // Fails pending calls with kShutdown, deletes this process's fanout queues, closes the connection and
  // joins the I/O thread. Idempotent.
  void stop();

  RpcResult<nlohmann::json> call(const RpcTarget& target, const std::string& method, nlohmann::json args,
                                 std::optional<std::chrono::milliseconds> timeout = std::nullopt) override;
  RpcStatus cast(const RpcTarget& target, const std::string& method, nlohmann::json args) override;

  const std::string& replyQueue() const { return reply_queue_; }
  // Connections established after the first (for tests and the agent's status).
  uint64_t reconnects() const { return reconnects_.load(); }

 private:
  using Clock = std::chrono::steady_clock;

  struct Outgoing {
    enum class Exchange { kTopic, kFanout, kDefault };
    Exchange exchange_kind = Exchange::kTopic;
    std::string topic;  // names the fanout exchange
    std::string exchange;
    std::string routing_key;
    std::string body;
    bool mandatory = false;
    bool set_expiration = false;
    Clock::time_point deadline;
    std::string what;
    std::optional<std::string> msg_id;                   // a call's
    std::shared_ptr<std::promise<RpcStatus>> confirmed;  // a cast's
  };
  struct Subscription {
    std::string topic;
    std::shared_ptr<const RpcDispatcher> dispatcher;
    std::string fanout_queue;
    std::vector<std::string> consumer_tags;
    DuplicateFilter seen;
    std::shared_ptr<std::promise<Status>> declared;  // set once, by the first declaration attempt
  };
  struct Unconfirmed {
    std::string what;
    std::optional<std::string> msg_id;
    std::shared_ptr<std::promise<RpcStatus>> confirmed;
  };

  void enqueue(Outgoing out);
  void wake();
  void run();
  bool connect(size_t attempt);
  Status declareSubscription(Subscription& sub);
  void dropConnection(const std::string& reason);
  void shutdownOnIoThread();
  void drainCommands();
  bool publish(Outgoing& out);  // false: the connection failed (out was not consumed)
  void handle(AmqpEvent& event);
  void handleReply(const std::string& body);
  void handleRequest(Subscription& sub, const std::string& body);
  void settleConfirms(uint64_t tag, bool multiple, bool ack, const std::string& why);
  std::chrono::milliseconds backoff(size_t failures) const;
  int pollTimeoutMs() const;

  const RpcClientOptions options_;
  const Topology topology_;
  const logging::Log log_;
  const std::string reply_queue_;
  const std::string connection_id_;
  std::vector<config::TransportHost> hosts_;  // shuffled once when there are several, as oslo does
  ReplyWaiter waiter_;

  // Shared between callers and the I/O thread.
  mutable std::mutex mu_;
  std::condition_variable connected_cv_;
  std::deque<Outgoing> outgoing_;
  std::vector<std::unique_ptr<Subscription>> new_subscriptions_;
  ReconnectHandler reconnect_handler_;
  std::string last_error_;
  bool stopping_ = false;
  bool started_ = false;
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> reconnects_{0};
  int wake_fd_ = -1;
  std::thread io_thread_;

  // I/O thread only.
  std::unique_ptr<AmqpConnection> conn_;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;
  std::map<std::string, Subscription*> by_tag_;
  std::map<uint64_t, Unconfirmed> unconfirmed_;
  std::set<std::string> declared_exchanges_;
  DuplicateFilter reply_seen_;
  bool ever_connected_ = false;
  uint64_t next_tag_ = 1;
};

}  // namespace nwg::rpc

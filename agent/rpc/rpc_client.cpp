// RpcClient: the I/O thread's loop (connect with backoff, publish queued messages, read and dispatch what
// arrives, sleep in poll(2)), and the caller-side call()/cast() that queue work and wait for its outcome.
#include "rpc/rpc_client.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include "rpc/amqp_connection.h"
#include "rpc/envelope.h"
#include "rpc/request_context.h"
#include "rpc/rpc_reply.h"
#include "rpc/rpc_request.h"
#include "rpc/uuid.h"

namespace nwg::rpc {
namespace {

constexpr const char* kReplyConsumerTag = "nwg-reply";
constexpr std::chrono::seconds kSubscribeWait{30};

}  // namespace

RpcClientOptions RpcClientOptions::fromConfig(const config::AgentConfig& config) {
  RpcClientOptions o;
  o.transport_url = config.transport_url;
  o.rabbit = config.rabbit;
  o.control_exchange = config.control_exchange;
  o.host = config.host;
  o.default_timeout = std::chrono::seconds(config.rpc_response_timeout);
  return o;
}

RpcClient::RpcClient(RpcClientOptions options, logging::Log log)
    : options_(std::move(options)),
      topology_(options_.control_exchange, options_.rabbit),
      log_(std::move(log)),
      reply_queue_("reply_" + newUuidHex()),
      connection_id_(newUuidString()),
      hosts_(options_.transport_url.hosts()) {
  if (hosts_.size() > 1 && options_.shuffle_hosts) {
    std::random_device rd;
    std::mt19937 rng(rd());
    std::shuffle(hosts_.begin(), hosts_.end(), rng);  // oslo shuffles the hosts of a multi-host URL
  }
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

RpcClient::~RpcClient() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void RpcClient::onReconnect(ReconnectHandler handler) {
  std::lock_guard lock(mu_);
  reconnect_handler_ = std::move(handler);
}

void RpcClient::start() {
  std::lock_guard lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  io_thread_ = std::thread(&RpcClient::run, this);
}

bool RpcClient::waitConnected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return connected_cv_.wait_for(lock, timeout, [this] { return connected_.load() || stopping_; }) &&
         connected_.load();
}

void RpcClient::stop() {
  bool had_thread = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !io_thread_.joinable()) return;
    stopping_ = true;
    had_thread = started_;
  }
  connected_cv_.notify_all();
  wake();
  if (had_thread) {
    if (io_thread_.joinable() && io_thread_.get_id() != std::this_thread::get_id()) io_thread_.join();
  } else {
    shutdownOnIoThread();  // never started: no thread owns the state
  }
}

void RpcClient::wake() {
  const uint64_t one = 1;
  if (wake_fd_ >= 0) {
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);  // EAGAIN: a wake-up is pending anyway
  }
}

void RpcClient::enqueue(Outgoing out) {
  {
    std::lock_guard lock(mu_);
    outgoing_.push_back(std::move(out));
  }
  wake();
}

Status RpcClient::subscribe(const std::string& topic, std::shared_ptr<const RpcDispatcher> dispatcher) {
  auto sub = std::make_unique<Subscription>();
  sub->topic = topic;
  sub->dispatcher = std::move(dispatcher);
  sub->fanout_queue = newUuidHex();
  sub->declared = std::make_shared<std::promise<Status>>();
  std::future<Status> declared = sub->declared->get_future();
  bool wait = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return fail("cannot subscribe to ", topic, ": the RPC client is stopping");
    new_subscriptions_.push_back(std::move(sub));
    wait = started_ && connected_.load();
  }
  wake();
  if (!wait) return okStatus();
  if (declared.wait_for(kSubscribeWait) != std::future_status::ready) {
    return fail("subscribing to ", topic, ": no answer from the I/O thread within ", kSubscribeWait.count(),
                " s");
  }
  return declared.get();
}

RpcResult<nlohmann::json> RpcClient::call(const RpcTarget& target, const std::string& method,
                                          nlohmann::json args,
                                          std::optional<std::chrono::milliseconds> timeout) {
  const std::string what = target.describe(method);
  {
    std::lock_guard lock(mu_);
    if (stopping_) return RpcError{RpcErrorKind::kShutdown, what + ": the RPC client is stopping", {}};
  }
  RpcRequest request;
  request.method = method;
  request.args = std::move(args);
  request.version = target.version;
  request.ns = target.ns;
  request.msg_id = newUuidHex();
  request.reply_q = reply_queue_;
  if (target.call_monitor_timeout) request.call_monitor_timeout = *target.call_monitor_timeout;
  request.unique_id = newUuidHex();
  request.context = RequestContext::admin();

  Outgoing out;
  out.exchange_kind = Outgoing::Exchange::kTopic;
  out.exchange = options_.control_exchange;
  out.routing_key = target.server ? target.topic + "." + *target.server : target.topic;
  out.body = Envelope::encode(request.toInner());
  out.set_expiration = true;
  out.deadline = Clock::now() + timeout.value_or(options_.default_timeout);
  out.what = what;
  out.msg_id = request.msg_id;

  const std::string msg_id = *request.msg_id;
  const auto deadline = out.deadline;
  waiter_.expect(msg_id, what);  // before publishing: the reply may be fast
  enqueue(std::move(out));
  auto result = waiter_.wait(msg_id, deadline);
  if (!result.ok() && result.error().kind == RpcErrorKind::kConnectionLost && !connected_.load()) {
    RpcError e = std::move(result).error();
    std::lock_guard lock(mu_);
    if (!last_error_.empty()) e.message += " (" + last_error_ + ")";
    return e;
  }
  return result;
}

RpcStatus RpcClient::cast(const RpcTarget& target, const std::string& method, nlohmann::json args) {
  const std::string what = target.describe(method);
  {
    std::lock_guard lock(mu_);
    if (stopping_) return RpcError{RpcErrorKind::kShutdown, what + ": the RPC client is stopping", {}};
  }
  RpcRequest request;
  request.method = method;
  request.args = std::move(args);
  request.version = target.version;
  request.ns = target.ns;
  request.unique_id = newUuidHex();
  request.context = RequestContext::admin();

  Outgoing out;
  if (target.fanout) {
    out.exchange_kind = Outgoing::Exchange::kFanout;
    out.topic = target.topic;
    out.exchange = target.topic + "_fanout";
  } else {
    out.exchange_kind = Outgoing::Exchange::kTopic;
    out.exchange = options_.control_exchange;
    out.routing_key = target.server ? target.topic + "." + *target.server : target.topic;
  }
  out.body = Envelope::encode(request.toInner());
  out.deadline = Clock::now() + options_.default_timeout;
  out.what = what;
  out.confirmed = std::make_shared<std::promise<RpcStatus>>();
  auto confirmed = out.confirmed->get_future();
  const auto deadline = out.deadline;
  enqueue(std::move(out));
  if (confirmed.wait_until(deadline) == std::future_status::ready) return confirmed.get();
  if (!connected_.load()) {
    std::lock_guard lock(mu_);
    return RpcError{RpcErrorKind::kConnectionLost,
                    str(what, ": not sent, no connection to RabbitMQ (", last_error_, ")"),
                    {}};
  }
  return RpcError{RpcErrorKind::kTimeout, what + ": the broker did not confirm the message in time", {}};
}

std::chrono::milliseconds RpcClient::backoff(size_t failures) const {
  const auto& r = options_.rabbit;
  const int64_t secs =
      std::min<int64_t>(r.rabbit_retry_interval + static_cast<int64_t>(failures) * r.rabbit_retry_backoff,
                        r.rabbit_interval_max);
  return std::max<std::chrono::milliseconds>(std::chrono::seconds(secs), std::chrono::milliseconds(100));
}

int RpcClient::pollTimeoutMs() const {
  // rabbitmq-c sends a heartbeat every heartbeat/2 s, but only from inside a library call: wake up often
  // enough for that, and at least once a second.
  const int hb = conn_ ? conn_->heartbeat() : 0;
  if (hb <= 0) return 1000;
  return std::clamp(hb * 1000 / (2 * std::max(options_.rabbit.heartbeat_rate, 2)), 100, 1000);
}

void RpcClient::run() {
  size_t attempt = 0;
  size_t failures = 0;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    if (!conn_) {
      if (connect(attempt++)) {
        failures = 0;
      } else {
        const auto delay = backoff(failures++);
        std::string why;
        {
          std::lock_guard lock(mu_);
          why = last_error_;
        }
        log_.warning(why, ". Trying again in ", static_cast<double>(delay.count()) / 1000.0, " s.");
        const auto next = Clock::now() + delay;
        while (Clock::now() < next) {
          {
            std::lock_guard lock(mu_);
            if (stopping_) break;
          }
          pollfd pfd{wake_fd_, POLLIN, 0};
          const auto left =
              std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
          ::poll(&pfd, 1, static_cast<int>(std::clamp<int64_t>(left, 0, 1000)));
          uint64_t v;
          [[maybe_unused]] ssize_t n = ::read(wake_fd_, &v, sizeof v);
          drainCommands();  // not connected: prunes expired messages, acknowledges subscriptions
        }
        continue;
      }
    }
    drainCommands();
    for (int i = 0; i < 256 && conn_; ++i) {
      auto event = conn_->poll();
      if (!event.ok()) {
        dropConnection(event.error().message);
        break;
      }
      if (event->kind == AmqpEvent::Kind::kNone) break;
      handle(*event);
      if (conn_ && !conn_->alive()) dropConnection("the connection failed while handling a message");
    }
    if (!conn_) continue;
    conn_->releaseBuffers();
    if (conn_->hasBufferedInput()) continue;
    {
      std::lock_guard lock(mu_);
      if (!outgoing_.empty() || !new_subscriptions_.empty() || stopping_) continue;
    }
    pollfd fds[2] = {{conn_->fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    ::poll(fds, 2, pollTimeoutMs());
    if (fds[1].revents & POLLIN) {
      uint64_t v;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &v, sizeof v);
    }
  }
  shutdownOnIoThread();
}

bool RpcClient::connect(size_t attempt) {
  const config::TransportHost& host = options_.rabbit.kombu_failover_strategy == "shuffle"
                                          ? hosts_[std::random_device()() % hosts_.size()]
                                          : hosts_[attempt % hosts_.size()];
  AmqpConnectOptions o;
  o.host = host.host;
  o.port = host.portOr(options_.rabbit.ssl ? config::TransportUrl::kDefaultSslPort
                                           : config::TransportUrl::kDefaultPort);
  o.username = host.username;
  o.password = host.password;
  o.vhost = options_.transport_url.virtualHost();
  o.rabbit = options_.rabbit;
  o.connection_name = str(options_.program, ":", ::getpid(), ":", connection_id_);
  auto opened = AmqpConnection::open(o);
  if (!opened.ok()) {
    std::lock_guard lock(mu_);
    last_error_ = opened.error().message;
    return false;
  }
  conn_ = std::move(opened).value();

  Status st = conn_->declareQueue(topology_.replyQueue(reply_queue_.substr(std::string("reply_").size())));
  if (st.ok()) st = conn_->consume(reply_queue_, kReplyConsumerTag);
  if (!st.ok()) {
    log_.error("cannot consume the reply queue ", reply_queue_, ": ", st.error().message);
    dropConnection(st.error().message);
    return false;
  }
  for (auto& sub : subscriptions_) {
    Status s = declareSubscription(*sub);
    if (!s.ok()) log_.error("cannot consume topic ", sub->topic, ": ", s.error().message);
    if (!conn_->alive()) {
      dropConnection(s.ok() ? "connection failed" : s.error().message);
      return false;
    }
  }
  connected_.store(true);
  {
    std::lock_guard lock(mu_);
    last_error_.clear();
  }
  connected_cv_.notify_all();
  log_.info("Connected to AMQP server on ", conn_->peer(), " (vhost ", o.vhost, ", heartbeat ",
            conn_->heartbeat(), " s)");
  const bool reconnected = ever_connected_;
  ever_connected_ = true;
  if (reconnected) {
    reconnects_.fetch_add(1);
    ReconnectHandler handler;
    {
      std::lock_guard lock(mu_);
      handler = reconnect_handler_;
    }
    if (handler) handler();
  }
  return true;
}

Status RpcClient::declareSubscription(Subscription& sub) {
  for (const auto& tag : sub.consumer_tags) by_tag_.erase(tag);
  sub.consumer_tags.clear();
  Status st = [&]() -> Status {
    NWG_RETURN_IF_ERROR(conn_->declareExchange(topology_.topicExchange()));
    declared_exchanges_.insert(options_.control_exchange);
    NWG_RETURN_IF_ERROR(conn_->declareExchange(topology_.fanoutExchange(sub.topic)));
    std::vector<QueueSpec> queues{topology_.topicQueue(sub.topic)};
    if (!options_.host.empty()) queues.push_back(topology_.serverQueue(sub.topic, options_.host));
    queues.push_back(topology_.fanoutQueue(sub.topic, sub.fanout_queue));
    for (const auto& q : queues) {
      NWG_RETURN_IF_ERROR(conn_->declareQueue(q));
      const std::string tag = str("nwg-", next_tag_++);
      NWG_RETURN_IF_ERROR(conn_->consume(q.name, tag));
      by_tag_[tag] = &sub;
      sub.consumer_tags.push_back(tag);
    }
    return okStatus();
  }();
  if (sub.declared) {
    sub.declared->set_value(st);
    sub.declared.reset();
  }
  return st;
}

void RpcClient::dropConnection(const std::string& reason) {
  if (conn_) log_.warning("lost the connection to RabbitMQ ", conn_->peer(), ": ", reason);
  conn_.reset();
  connected_.store(false);
  {
    std::lock_guard lock(mu_);
    last_error_ = reason;
  }
  waiter_.failPublished(RpcErrorKind::kConnectionLost,
                        "connection to RabbitMQ lost before the reply: " + reason);
  for (auto& [seq, u] : unconfirmed_) {
    if (u.confirmed) {
      u.confirmed->set_value(
          RpcError{RpcErrorKind::kConnectionLost,
                   str(u.what, ": connection to RabbitMQ lost before the broker confirmed: ", reason),
                   {}});
    }
  }
  unconfirmed_.clear();
  declared_exchanges_.clear();
  by_tag_.clear();
}

void RpcClient::shutdownOnIoThread() {
  if (conn_ && conn_->alive()) {
    // As oslo does on close: cancel our consumers, then delete this process's fanout queues (they would
    // otherwise collect fanout copies until they expire).
    for (auto& sub : subscriptions_) {
      for (const auto& tag : sub->consumer_tags) (void)conn_->cancel(tag);
    }
    for (auto& sub : subscriptions_) {
      if (!sub->consumer_tags.empty())
        (void)conn_->deleteQueue(topology_.fanoutQueue(sub->topic, sub->fanout_queue).name);
    }
    conn_->close();
  }
  conn_.reset();
  connected_.store(false);
  waiter_.failAll(RpcErrorKind::kShutdown, "the RPC client is stopping");
  for (auto& [seq, u] : unconfirmed_) {
    if (u.confirmed)
      u.confirmed->set_value(RpcError{RpcErrorKind::kShutdown, u.what + ": the RPC client is stopping", {}});
  }
  unconfirmed_.clear();
  std::deque<Outgoing> left;
  std::vector<std::unique_ptr<Subscription>> subs;
  {
    std::lock_guard lock(mu_);
    left.swap(outgoing_);
    subs.swap(new_subscriptions_);
  }
  for (auto& out : left) {
    if (out.confirmed)
      out.confirmed->set_value(
          RpcError{RpcErrorKind::kShutdown, out.what + ": the RPC client is stopping", {}});
  }
  for (auto& sub : subs) {
    if (sub->declared)
      sub->declared->set_value(fail("subscribing to ", sub->topic, ": the RPC client is stopping"));
  }
  for (auto& sub : subscriptions_) {
    if (sub->declared) {
      sub->declared->set_value(okStatus());
      sub->declared.reset();
    }
  }
}

void RpcClient::drainCommands() {
  std::deque<Outgoing> batch;
  std::vector<std::unique_ptr<Subscription>> subs;
  {
    std::lock_guard lock(mu_);
    batch.swap(outgoing_);
    subs.swap(new_subscriptions_);
  }
  for (auto& sub : subs) {
    Subscription& s = *sub;
    subscriptions_.push_back(std::move(sub));
    if (conn_) {
      Status st = declareSubscription(s);
      if (!st.ok()) log_.error("cannot consume topic ", s.topic, ": ", st.error().message);
      if (!conn_->alive()) dropConnection(st.ok() ? "connection failed" : st.error().message);
    } else if (s.declared) {
      s.declared->set_value(okStatus());  // declared on connect
      s.declared.reset();
    }
  }
  const auto now = Clock::now();
  while (!batch.empty()) {
    Outgoing& out = batch.front();
    if (now >= out.deadline) {
      // Its caller has given up already (calls time out in ReplyWaiter::wait).
      if (out.confirmed) {
        out.confirmed->set_value(
            RpcError{RpcErrorKind::kConnectionLost, out.what + ": not sent before its deadline", {}});
      }
      batch.pop_front();
      continue;
    }
    if (!conn_ || !publish(out)) break;
    batch.pop_front();
  }
  if (!batch.empty()) {
    // Not connected (or the connection just failed): keep them, in order, ahead of newer messages.
    std::lock_guard lock(mu_);
    outgoing_.insert(outgoing_.begin(), std::make_move_iterator(batch.begin()),
                     std::make_move_iterator(batch.end()));
  }
}

bool RpcClient::publish(Outgoing& out) {
  auto refuse = [&](const std::string& why) {
    RpcError e{RpcErrorKind::kPublishRefused, why, {}};
    if (out.confirmed) out.confirmed->set_value(RpcError{e.kind, out.what + ": " + why, {}});
    if (out.msg_id) waiter_.fail(*out.msg_id, std::move(e));
  };
  Status declared = okStatus();
  if (out.exchange_kind == Outgoing::Exchange::kTopic &&
      (!declared_exchanges_.count(out.exchange) || options_.rabbit.amqp_auto_delete)) {
    declared = conn_->declareExchange(topology_.topicExchange());
    if (declared.ok()) declared_exchanges_.insert(out.exchange);
  } else if (out.exchange_kind == Outgoing::Exchange::kFanout) {
    // Auto-delete: it vanishes with its last queue, so declare it before every fanout cast.
    declared = conn_->declareExchange(topology_.fanoutExchange(out.topic));
  }
  if (!declared.ok()) {
    if (!conn_->alive()) {
      dropConnection(declared.error().message);
      return false;
    }
    refuse(declared.error().message);
    return true;
  }
  std::optional<int64_t> expiration;
  if (out.set_expiration) {
    // oslo sets the call's timeout; what is left of it is what still matters to the caller.
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(out.deadline - Clock::now()).count();
    expiration = std::max<int64_t>(1, left);
  }
  auto seq = conn_->publish(out.exchange, out.routing_key, out.body, out.mandatory, expiration);
  if (!seq.ok()) {
    dropConnection(seq.error().message);
    return false;
  }
  if (out.msg_id) waiter_.markPublished(*out.msg_id);
  if (out.msg_id || out.confirmed) unconfirmed_[*seq] = Unconfirmed{out.what, out.msg_id, out.confirmed};
  return true;
}

void RpcClient::handle(AmqpEvent& event) {
  switch (event.kind) {
    case AmqpEvent::Kind::kNone:
      return;
    case AmqpEvent::Kind::kDelivery: {
      // oslo acks on delivery, before dispatch: a message that makes us fail is not redelivered forever.
      if (!conn_->ack(event.delivery_tag).ok()) return;
      if (event.consumer_tag == kReplyConsumerTag) {
        handleReply(event.body);
        return;
      }
      auto it = by_tag_.find(event.consumer_tag);
      if (it == by_tag_.end()) {
        log_.warning("dropping a message for unknown consumer ", event.consumer_tag);
        return;
      }
      handleRequest(*it->second, event.body);
      return;
    }
    case AmqpEvent::Kind::kConfirm:
      settleConfirms(event.delivery_tag, event.multiple, event.ack, "nack");
      return;
    case AmqpEvent::Kind::kReturned:
      log_.warning("RabbitMQ returned a message to '", event.routing_key, "': ", event.text,
                   " (its caller has probably gone)");
      return;
    case AmqpEvent::Kind::kPublishFailed: {
      log_.error("RabbitMQ closed the publish channel: ", event.text);
      for (auto& [seq, u] : unconfirmed_) {
        RpcError e{RpcErrorKind::kPublishRefused, "refused by the broker: " + event.text, {}};
        if (u.confirmed) u.confirmed->set_value(RpcError{e.kind, u.what + ": " + e.message, {}});
        if (u.msg_id) waiter_.fail(*u.msg_id, std::move(e));
      }
      unconfirmed_.clear();
      declared_exchanges_.clear();
      return;
    }
    case AmqpEvent::Kind::kConsumerCancelled:
      // Its queue was deleted: start over so that every queue is declared and consumed again.
      dropConnection("RabbitMQ cancelled consumer " + event.consumer_tag + " (its queue was deleted)");
      return;
  }
}

void RpcClient::settleConfirms(uint64_t tag, bool multiple, bool ack, const std::string& why) {
  auto first = unconfirmed_.begin();
  auto last = multiple ? unconfirmed_.upper_bound(tag) : unconfirmed_.find(tag);
  if (!multiple) {
    if (last == unconfirmed_.end()) return;  // a publish nobody waits for (a reply)
    first = last;
    ++last;
  }
  for (auto it = first; it != last; ++it) {
    Unconfirmed& u = it->second;
    if (ack) {
      if (u.confirmed) u.confirmed->set_value(std::monostate{});
      continue;
    }
    RpcError e{RpcErrorKind::kPublishRefused, "the broker refused the message (" + why + ")", {}};
    if (u.confirmed) u.confirmed->set_value(RpcError{e.kind, u.what + ": " + e.message, {}});
    if (u.msg_id) waiter_.fail(*u.msg_id, std::move(e));
  }
  unconfirmed_.erase(first, last);
}

void RpcClient::handleReply(const std::string& body) {
  auto inner = Envelope::decode(body);
  if (!inner.ok()) {
    log_.warning("dropping an undecodable reply on ", reply_queue_, ": ", inner.error().message);
    return;
  }
  auto reply = RpcReply::fromInner(std::move(inner).value());
  if (!reply.ok()) {
    log_.warning("dropping an undecodable reply on ", reply_queue_, ": ", reply.error().message);
    return;
  }
  if (!reply_seen_.firstSeen(reply->unique_id)) {
    log_.debug("dropping duplicate reply ", reply->unique_id);
    return;
  }
  if (waiter_.deliver(*reply) == ReplyWaiter::Delivery::kUnknownCall) {
    log_.debug("dropping a reply for unknown or timed-out call ", reply->msg_id);
  }
}

void RpcClient::handleRequest(Subscription& sub, const std::string& body) {
  auto inner = Envelope::decode(body);
  if (!inner.ok()) {
    log_.warning("dropping an undecodable message on topic ", sub.topic, ": ", inner.error().message);
    return;
  }
  auto request = RpcRequest::fromInner(std::move(inner).value());
  if (!request.ok()) {
    log_.warning("dropping an undecodable message on topic ", sub.topic, ": ", request.error().message);
    return;
  }
  if (!sub.seen.firstSeen(request->unique_id)) {
    log_.warning("Found duplicate message(", request->unique_id, "). Skipping it.");
    return;
  }
  const std::string request_id = request->context.is_object() && request->context.contains("request_id") &&
                                         request->context["request_id"].is_string()
                                     ? request->context["request_id"].get<std::string>()
                                     : std::string();
  log_.forRequest(logging::Level::kDebug, request_id, "received ", request->isCall() ? "call " : "cast ",
                  sub.topic, ".", request->method);
  MethodOutcome outcome;
  try {
    outcome = sub.dispatcher->dispatch(*request);
  } catch (const std::exception& e) {
    // A handler bug must not take the I/O thread down; the caller gets an exception.
    outcome = RemoteError::make("RuntimeError", "builtins",
                                str(sub.topic, ".", request->method, " failed: ", e.what()));
  }
  if (!outcome.ok()) {
    log_.forRequest(logging::Level::kWarning, request_id, sub.topic, ".", request->method, ": ",
                    outcome.error()->describe());
  }
  if (!request->isCall()) return;
  RpcReply reply;
  reply.result = outcome.ok() ? outcome.result() : nlohmann::json(nullptr);
  if (!outcome.ok()) reply.failure = outcome.error()->serialize();
  reply.ending = true;
  reply.msg_id = *request->msg_id;
  reply.unique_id = newUuidHex();
  auto seq = conn_->publish("", *request->reply_q, Envelope::encode(reply.toInner()),
                            options_.rabbit.direct_mandatory_flag, std::nullopt);
  if (!seq.ok())
    log_.warning("cannot send the reply to ", sub.topic, ".", request->method, ": ", seq.error().message);
}

}  // namespace nwg::rpc

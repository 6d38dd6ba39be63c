// RpcClient: the caller-side call()/cast() that queue work and wait for its outcome, and the I/O thread's
// loop (connect with backoff, publish queued messages, read and dispatch what arrives, sleep in poll(2)).
#include "rpc/rpc_client.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <system_error>

#include "rpc/amqp_connection.h"
#include "rpc/envelope.h"
#include "rpc/request_context.h"
#include "rpc/rpc_reply.h"
#include "rpc/rpc_request.h"
#include "rpc/uuid.h"

namespace nwg::rpc {
namespace {

constexpr const char* kReplyConsumerTag = "nwg-reply";
constexpr const char* kCastIdPrefix = "cast-";
constexpr std::chrono::seconds kSubscribeWait{30};
// How often the loop looks around when its wake-ups fail (instead of sleeping until a heartbeat).
constexpr int kBrokenWakePollMs = 50;

std::optional<WakeEvent> makeWake(std::string& error) {
  auto wake = WakeEvent::create();
  if (wake.ok()) return std::move(wake).value();
  error = wake.error().message;
  return std::nullopt;
}

RpcError stoppingError(const std::string& what) {
  return RpcError{RpcErrorKind::kShutdown, what + ": the RPC client is stopping", {}};
}

}  // namespace

RpcClient::RpcClient(RpcClientOptions options, logging::Log log,
                     std::shared_ptr<AmqpTransportFactory> transport)
    : options_(std::move(options)),
      topology_(options_.control_exchange, options_.rabbit),
      log_(std::move(log)),
      reply_queue_("reply_" + newUuidHex()),
      connection_id_(newUuidString()),
      hosts_(options_.transport_url.hosts()),
      factory_(transport ? std::move(transport) : std::make_shared<AmqpConnectionFactory>()),
      wake_(makeWake(wake_error_)),
      interrupt_(wake_ ? &*wake_ : nullptr),
      server_(topology_,
              RpcServer::Options{options_.host, options_.rabbit.direct_mandatory_flag, options_.limits},
              log_) {
  if (options_.rabbit.ssl && !options_.rabbit.ssl_verify_broker_certificate) {
    log_.warning(
        "[oslo_messaging_rabbit] ssl_verify_broker_certificate = false: the broker's TLS certificate is "
        "not verified, anyone on the path can impersonate it");
  }
  if (hosts_.size() > 1 && options_.shuffle_hosts) {
    std::random_device rd;
    std::mt19937 rng(rd());
    std::shuffle(hosts_.begin(), hosts_.end(), rng);  // oslo shuffles the hosts of a multi-host URL
  }
}

RpcClient::~RpcClient() {
  stop();
}

void RpcClient::onReconnect(ReconnectHandler handler) {
  std::lock_guard lock(mu_);
  reconnect_handler_ = std::move(handler);
}

Status RpcClient::start() {
  std::lock_guard lock(mu_);
  if (started_) return okStatus();
  if (stopping_) return fail("cannot start the RPC client: it is stopping");
  if (!wake_) return fail("cannot start the RPC client: ", wake_error_);
  if (hosts_.empty()) return fail("cannot start the RPC client: the transport_url names no host");
  try {
    io_thread_ = std::thread(&RpcClient::run, this);
  } catch (const std::system_error& e) {
    return fail("cannot start the RPC client's I/O thread: ", e.what());
  }
  started_ = true;
  return okStatus();
}

bool RpcClient::waitConnected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return connected_.load() || stopping_; }) && !stopping_ &&
         connected_.load();
}

size_t RpcClient::queued() const {
  std::lock_guard lock(mu_);
  return outgoing_.size();
}

bool RpcClient::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

void RpcClient::stop() {
  std::lock_guard stop_lock(stop_mu_);
  bool started = false;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    started = started_;
  }
  cv_.notify_all();
  // Callers first: nobody waits for the I/O thread's goodbyes.
  waiter_.close(RpcErrorKind::kShutdown, "the RPC client is stopping");
  interrupt_.request();
  if (!started) {
    shutdownOnIoThread();  // never started: no thread owns the state
    return;
  }
  if (!io_thread_.joinable()) return;                             // stopped before
  if (io_thread_.get_id() == std::this_thread::get_id()) return;  // from a handler: the loop ends by itself
  if (connecting_.load()) interrupt_.fire();
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kStopGrace, [this] { return io_ended_; })) {
      lock.unlock();
      log_.warning("the RPC I/O thread did not end within ", kStopGrace.count(),
                   " ms; shutting its connection down");
      interrupt_.fire();
    }
  }
  io_thread_.join();
}

void RpcClient::wake() {
  if (!wake_) return;
  if (Status s = wake_->signal(); !s.ok() && !wake_broken_.exchange(true)) {
    log_.error(s.error().message, "; the I/O thread now polls every ", kBrokenWakePollMs, " ms");
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
  NewSubscription sub{topic, std::move(dispatcher), std::make_shared<std::promise<Status>>()};
  std::future<Status> declared = sub.declared->get_future();
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
  try {
    return declared.get();
  } catch (const std::future_error&) {
    // The I/O thread dropped the request in a fault (see "Faults"); the subscription is declared on the
    // next connection.
    return fail("subscribing to ", topic, ": interrupted by an internal error; declared after the reconnect");
  }
}

RpcResult<nlohmann::json> RpcClient::call(const RpcTarget& target, const std::string& method,
                                          nlohmann::json args,
                                          std::optional<std::chrono::milliseconds> timeout) {
  const std::string what = target.describe(method);
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
  out.id = *request.msg_id;

  const std::string id = out.id;
  const auto deadline = out.deadline;
  if (!waiter_.expect(id, what)) return stoppingError(what);  // before publishing: the reply may be fast
  enqueue(std::move(out));
  auto result = waiter_.wait(id, deadline);
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
  out.id = kCastIdPrefix + newUuidHex();
  out.cast = true;
  const std::string id = out.id;
  const auto deadline = out.deadline;
  if (!waiter_.expect(id, what)) return stoppingError(what);
  enqueue(std::move(out));
  auto result = waiter_.wait(id, deadline);
  if (result.ok()) return std::monostate{};
  RpcError e = std::move(result).error();
  if (e.kind == RpcErrorKind::kTimeout) {
    e.message = what + ": the broker did not confirm the message in time";
  } else if (e.kind == RpcErrorKind::kConnectionLost && !connected_.load()) {
    std::lock_guard lock(mu_);
    if (!last_error_.empty()) e.message += " (" + last_error_ + ")";
  }
  return e;
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
  int ms =
      hb <= 0 ? 1000 : std::clamp(hb * 1000 / (2 * std::max(options_.rabbit.heartbeat_rate, 2)), 100, 1000);
  if (wake_broken_.load()) ms = std::min(ms, kBrokenWakePollMs);
  return ms;
}

// Sleeps in poll(2) on `other_fd` (the connection; -1: none) and the wake fd, for at most `timeout_ms`.
void RpcClient::waitWake(int other_fd, int timeout_ms) {
  // A broken wake fd is left out: it might stay readable and make the loop spin.
  const bool use_wake = wake_ && !wake_broken_.load();
  pollfd fds[2] = {{use_wake ? wake_->fd() : -1, POLLIN, 0}, {other_fd, POLLIN, 0}};
  if (::poll(fds, 2, timeout_ms) < 0 && errno != EINTR) {
    throw std::system_error(errno, std::generic_category(), "poll on the RPC connection");
  }
  if (use_wake && (fds[0].revents & (POLLIN | POLLERR | POLLNVAL))) {
    if (Status s = wake_->drain(); !s.ok() && !wake_broken_.exchange(true)) {
      log_.error(s.error().message, "; the I/O thread now polls every ", kBrokenWakePollMs, " ms");
    }
  }
}

void RpcClient::run() {
  while (!stopping()) {
    // The exception barrier of the I/O thread (see "Faults" in the header).
    try {
      step();
    } catch (const std::exception& e) {
      onFault(e.what());
    } catch (...) {
      onFault("an exception that is not a std::exception");
    }
  }
  try {
    shutdownOnIoThread();
  } catch (const std::exception& e) {
    log_.error("error while stopping the RPC client: ", e.what());
  } catch (...) {
    log_.error("error while stopping the RPC client");
  }
  {
    std::lock_guard lock(mu_);
    io_ended_ = true;
  }
  cv_.notify_all();
}

void RpcClient::step() {
  if (!conn_) {
    if (connect()) {
      failures_ = 0;
    } else {
      backoffWait(backoff(failures_++));
    }
    return;
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
  if (!conn_) return;
  conn_->releaseBuffers();
  if (conn_->hasBufferedInput()) return;
  {
    std::lock_guard lock(mu_);
    if (!outgoing_.empty() || !new_subscriptions_.empty() || stopping_) return;
  }
  waitWake(conn_->fd(), pollTimeoutMs());
}

void RpcClient::onFault(const std::string& what) {
  connecting_.store(false);
  log_.error("internal error on the RPC I/O thread: ", what,
             "; dropping the connection, failing the calls in flight and queued, reconnecting");
  try {
    dropConnection("internal error: " + what);
    failQueued(RpcErrorKind::kConnectionLost, "not sent: internal error of the RPC client: " + what);
    backoffWait(backoff(failures_++));
  } catch (...) {
    // Nothing else can be done here; the loop carries on (and retries after its next backoff).
  }
}

void RpcClient::backoffWait(std::chrono::milliseconds delay) {
  if (stopping()) return;
  std::string why;
  {
    std::lock_guard lock(mu_);
    why = last_error_;
  }
  if (!why.empty())
    log_.warning(why, ". Trying again in ", static_cast<double>(delay.count()) / 1000.0, " s.");
  const auto next = Clock::now() + delay;
  while (Clock::now() < next && !stopping()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
    waitWake(-1,
             static_cast<int>(std::clamp<int64_t>(left, 0, wake_broken_.load() ? kBrokenWakePollMs : 1000)));
    drainCommands();  // not connected: prunes expired messages, acknowledges subscriptions
  }
}

bool RpcClient::connect() {
  const config::TransportHost& host = options_.rabbit.kombu_failover_strategy == "shuffle"
                                          ? hosts_[std::random_device()() % hosts_.size()]
                                          : hosts_[attempt_ % hosts_.size()];
  ++attempt_;
  AmqpConnectOptions o;
  o.host = host.host;
  o.port = host.portOr(options_.rabbit.ssl ? config::TransportUrl::kDefaultSslPort
                                           : config::TransportUrl::kDefaultPort);
  o.username = host.username;
  o.password = host.password;
  o.vhost = options_.transport_url.virtualHost();
  o.rabbit = options_.rabbit;
  o.connect_timeout = options_.connect_timeout;
  o.connection_name = str(options_.program, ":", ::getpid(), ":", connection_id_);
  o.max_body_bytes = options_.limits.max_bytes;

  // While connecting (and declaring), stop() shuts the socket down at once instead of waiting.
  connecting_.store(true);
  struct Done {
    std::atomic<bool>& flag;
    ~Done() { flag.store(false); }
  } done{connecting_};
  if (stopping()) return false;
  auto opened = factory_->open(o, interrupt_);
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
  // Subscriptions made before this connection (before start(), or while disconnected) are declared
  // now, before the client says it is connected: a caller that waited for the connection may rely
  // on them (a peer's call to a topic that is not declared yet would be dropped by the broker).
  auto adopted = adoptNewSubscriptions();
  std::vector<Status> declared;
  for (size_t i = 0; i < server_.size(); ++i) {
    Status s = server_.declare(*conn_, i);
    if (!s.ok()) log_.error("cannot consume topic ", server_.topic(i), ": ", s.error().message);
    declared.push_back(s);
    if (!conn_->alive()) {
      dropConnection(s.ok() ? "connection failed" : s.error().message);
      for (auto& [index, promise] : adopted) promise->set_value(okStatus());  // declared on the next connect
      return false;
    }
  }
  for (auto& [index, promise] : adopted) promise->set_value(declared[index]);
  connected_.store(true);
  {
    std::lock_guard lock(mu_);
    last_error_.clear();
  }
  cv_.notify_all();
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
    try {
      if (handler) handler();
    } catch (const std::exception& e) {
      log_.error("the reconnect handler failed: ", e.what());
    } catch (...) {
      log_.error("the reconnect handler failed");
    }
  }
  return true;
}

void RpcClient::dropConnection(const std::string& reason) {
  if (conn_) log_.warning("lost the connection to RabbitMQ ", conn_->peer(), ": ", reason);
  conn_.reset();
  connected_.store(false);
  {
    std::lock_guard lock(mu_);
    last_error_ = reason;
  }
  // Every call and cast whose message went out on that connection: its reply or confirm cannot come now.
  waiter_.failPublished(RpcErrorKind::kConnectionLost,
                        "connection to RabbitMQ lost before the reply: " + reason);
  (void)ledger_.takeAll();
  declared_exchanges_.clear();
  server_.forgetConsumers();
}

void RpcClient::failQueued(RpcErrorKind kind, const std::string& cause) {
  std::deque<Outgoing> queued;
  {
    std::lock_guard lock(mu_);
    queued.swap(outgoing_);
  }
  for (const auto& out : queued) waiter_.fail(out.id, RpcError{kind, cause, {}});
}

void RpcClient::shutdownOnIoThread() {
  if (conn_ && conn_->alive()) {
    server_.close(*conn_);
    conn_->close();
  }
  conn_.reset();
  connected_.store(false);
  waiter_.close(RpcErrorKind::kShutdown, "the RPC client is stopping");
  (void)ledger_.takeAll();
  std::deque<Outgoing> left;
  std::vector<NewSubscription> subs;
  {
    std::lock_guard lock(mu_);
    left.swap(outgoing_);
    subs.swap(new_subscriptions_);
  }
  for (auto& sub : subs)
    sub.declared->set_value(fail("subscribing to ", sub.topic, ": the RPC client is stopping"));
}

std::vector<std::pair<size_t, std::shared_ptr<std::promise<Status>>>> RpcClient::adoptNewSubscriptions() {
  std::vector<NewSubscription> subs;
  {
    std::lock_guard lock(mu_);
    subs.swap(new_subscriptions_);
  }
  std::vector<std::pair<size_t, std::shared_ptr<std::promise<Status>>>> adopted;
  for (auto& sub : subs) {
    adopted.emplace_back(server_.add(sub.topic, std::move(sub.dispatcher), newUuidHex()),
                         std::move(sub.declared));
  }
  return adopted;
}

void RpcClient::drainCommands() {
  std::deque<Outgoing> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(outgoing_);
  }
  for (auto& [index, promise] : adoptNewSubscriptions()) {
    if (!conn_) {
      promise->set_value(okStatus());  // declared on connect
      continue;
    }
    Status st = server_.declare(*conn_, index);
    if (!st.ok()) log_.error("cannot consume topic ", server_.topic(index), ": ", st.error().message);
    promise->set_value(st);
    if (!conn_->alive()) dropConnection(st.ok() ? "connection failed" : st.error().message);
  }
  const auto now = Clock::now();
  while (!batch.empty()) {
    Outgoing& out = batch.front();
    if (now >= out.deadline) {
      batch.pop_front();  // its caller has given up already (ReplyWaiter::wait ends at the deadline)
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
    waiter_.fail(out.id, RpcError{RpcErrorKind::kPublishRefused, declared.error().message, {}});
    return true;
  }
  std::optional<int64_t> expiration;
  if (out.set_expiration) {
    // oslo sets the call's timeout; what is left of it is what still matters to the caller.
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(out.deadline - Clock::now()).count();
    expiration = std::max<int64_t>(1, left);
  }
  auto seq = conn_->publish(out.exchange, out.routing_key, out.body, /*mandatory=*/false, expiration);
  if (!seq.ok()) {
    dropConnection(seq.error().message);
    return false;
  }
  waiter_.markPublished(out.id);
  ledger_.add(*seq, ConfirmLedger::Entry{out.id, out.what, out.cast});
  return true;
}

void RpcClient::handle(AmqpEvent& event) {
  switch (event.kind) {
    case AmqpEvent::Kind::kNone:
      return;
    case AmqpEvent::Kind::kDelivery:
      // oslo acks on delivery, before dispatch: a message that makes us fail is not redelivered forever.
      if (!conn_->ack(event.delivery_tag).ok()) return;
      if (event.consumer_tag == kReplyConsumerTag) {
        handleReply(event);
      } else {
        server_.handle(*conn_, event);
      }
      return;
    case AmqpEvent::Kind::kConfirm:
      for (auto& settled : ledger_.confirm(event.delivery_tag, event.multiple, event.ack)) {
        if (!settled.ack) {
          waiter_.fail(settled.entry.id,
                       RpcError{RpcErrorKind::kPublishRefused, "the broker refused the message (nack)", {}});
        } else if (settled.entry.cast) {
          waiter_.complete(settled.entry.id, nullptr);
        }
      }
      return;
    case AmqpEvent::Kind::kReturned:
      log_.warning("RabbitMQ returned a message to '", sanitizeForLog(event.routing_key, 100),
                   "': ", sanitizeForLog(event.text, 200), " (its caller has probably gone)");
      return;
    case AmqpEvent::Kind::kPublishFailed: {
      const std::string why = sanitizeForLog(event.text, 200);
      log_.error("RabbitMQ closed the publish channel: ", why);
      for (auto& settled : ledger_.takeAll()) {
        waiter_.fail(settled.entry.id,
                     RpcError{RpcErrorKind::kPublishRefused, "refused by the broker: " + why, {}});
      }
      declared_exchanges_.clear();
      return;
    }
    case AmqpEvent::Kind::kConsumerCancelled:
      // Its queue was deleted: start over so that every queue is declared and consumed again.
      dropConnection("RabbitMQ cancelled consumer " + sanitizeForLog(event.consumer_tag, 100) +
                     " (its queue was deleted)");
      return;
  }
}

void RpcClient::handleReply(const AmqpEvent& delivery) {
  if (delivery.body_size > options_.limits.max_bytes || delivery.body.size() != delivery.body_size) {
    log_.warning("dropping a ", delivery.body_size, "-byte reply on ", reply_queue_, ": more than the ",
                 options_.limits.max_bytes, " bytes accepted");
    return;
  }
  auto inner = Envelope::decode(delivery.body, options_.limits);
  if (!inner.ok()) {
    log_.warning("dropping an undecodable reply on ", reply_queue_, ": ", inner.error().message);
    return;
  }
  auto reply = RpcReply::fromInner(std::move(inner).value());
  if (!reply.ok()) {
    log_.warning("dropping an undecodable reply on ", reply_queue_, ": ",
                 sanitizeForLog(reply.error().message));
    return;
  }
  if (startsWith(reply->msg_id, kCastIdPrefix)) {
    log_.warning("dropping a reply that names a cast (", sanitizeForLog(reply->msg_id, 64), ")");
    return;
  }
  if (!reply_seen_.firstSeen(reply->unique_id)) {
    log_.debug("dropping duplicate reply ", sanitizeForLog(reply->unique_id, 64));
    return;
  }
  if (waiter_.deliver(*reply) == ReplyWaiter::Delivery::kUnknownCall) {
    log_.debug("dropping a reply for unknown or timed-out call ", sanitizeForLog(reply->msg_id, 64));
  }
}

}  // namespace nwg::rpc

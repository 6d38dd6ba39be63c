// FakeBroker and its transport. Every broker answer quoted here is RabbitMQ 3.10's.
#include "rpc/testing/fake_broker.h"

#include <poll.h>

#include <algorithm>
#include <stdexcept>

namespace nwg::rpc {

class FakeAmqpTransport final : public AmqpTransport {
 public:
  FakeAmqpTransport(std::shared_ptr<FakeBroker> broker, uint64_t id, std::shared_ptr<WakeEvent> event_fd,
                    std::string peer)
      : broker_(std::move(broker)), id_(id), event_fd_(std::move(event_fd)), peer_(std::move(peer)) {}
  ~FakeAmqpTransport() override { close(); }

  int fd() const override { return event_fd_->fd(); }
  bool hasBufferedInput() const override {
    std::lock_guard lock(broker_->mu_);
    auto* c = broker_->connLocked(id_);
    return c && !c->events.empty();
  }
  int heartbeat() const override { return 0; }
  const std::string& peer() const override { return peer_; }
  bool alive() const override {
    std::lock_guard lock(broker_->mu_);
    auto* c = broker_->connLocked(id_);
    return c && c->alive;
  }

  Status declareExchange(const ExchangeSpec& e) override {
    std::lock_guard lock(broker_->mu_);
    FakeBroker::Conn* c = nullptr;
    NWG_RETURN_IF_ERROR(live(c, FakeBroker::Op::kDeclareExchange));
    auto it = broker_->exchanges_.find(e.name);
    if (it == broker_->exchanges_.end()) {
      broker_->exchanges_[e.name].spec = e;
      return okStatus();
    }
    const ExchangeSpec& have = it->second.spec;
    if (have.type != e.type || have.durable != e.durable || have.auto_delete != e.auto_delete) {
      return fail("RabbitMQ ", peer_, " refused exchange.declare ", e.name,
                  ": 406 PRECONDITION_FAILED - inequivalent arg for exchange '", e.name, "'");
    }
    return okStatus();
  }

  Status declareQueue(const QueueSpec& q) override {
    std::lock_guard lock(broker_->mu_);
    FakeBroker::Conn* c = nullptr;
    NWG_RETURN_IF_ERROR(live(c, FakeBroker::Op::kDeclareQueue));
    auto it = broker_->queues_.find(q.name);
    if (it == broker_->queues_.end()) {
      broker_->queues_[q.name].spec = q;
    } else {
      const QueueSpec& have = it->second.spec;
      if (have.durable != q.durable || have.exclusive != q.exclusive || have.auto_delete != q.auto_delete ||
          have.arguments != q.arguments) {
        return fail("RabbitMQ ", peer_, " refused queue.declare ", q.name,
                    ": 406 PRECONDITION_FAILED - inequivalent arg for queue '", q.name, "'");
      }
    }
    if (q.bind_exchange.empty()) return okStatus();
    auto ex = broker_->exchanges_.find(q.bind_exchange);
    if (ex == broker_->exchanges_.end()) {
      return fail("RabbitMQ ", peer_, " refused queue.bind ", q.name, " to ", q.bind_exchange,
                  ": 404 NOT_FOUND - no exchange '", q.bind_exchange, "'");
    }
    auto& b = ex->second.bindings;
    const std::pair<std::string, std::string> binding{q.name, q.routing_key};
    if (std::find(b.begin(), b.end(), binding) == b.end()) b.push_back(binding);
    return okStatus();
  }

  Status deleteQueue(const std::string& queue) override {
    std::lock_guard lock(broker_->mu_);
    FakeBroker::Conn* c = nullptr;
    NWG_RETURN_IF_ERROR(live(c, FakeBroker::Op::kDeleteQueue));
    broker_->removeQueueLocked(queue);
    return okStatus();
  }

  Status consume(const std::string& queue, const std::string& tag) override {
    std::lock_guard lock(broker_->mu_);
    FakeBroker::Conn* c = nullptr;
    NWG_RETURN_IF_ERROR(live(c, FakeBroker::Op::kConsume));
    auto it = broker_->queues_.find(queue);
    if (it == broker_->queues_.end()) {
      broker_->killLocked(*c, "the consume channel was closed");
      return fail("RabbitMQ ", peer_, " refused basic.consume ", queue, ": 404 NOT_FOUND - no queue '", queue,
                  "'");
    }
    if (c->consumers.count(tag)) {
      broker_->killLocked(*c, "connection closed");
      return fail("RabbitMQ ", peer_, " closed the connection during basic.consume ", queue,
                  ": 530 NOT_ALLOWED - attempt to reuse consumer tag '", tag, "'");
    }
    c->consumers[tag] = queue;
    c->consumed.push_back(queue);
    it->second.consumers.emplace_back(c->id, tag);
    broker_->deliverLocked(queue);
    return okStatus();
  }

  Status cancel(const std::string& tag) override {
    std::lock_guard lock(broker_->mu_);
    FakeBroker::Conn* c = nullptr;
    NWG_RETURN_IF_ERROR(live(c, FakeBroker::Op::kCancel));
    auto it = c->consumers.find(tag);
    if (it == c->consumers.end()) return okStatus();
    if (auto q = broker_->queues_.find(it->second); q != broker_->queues_.end()) {
      auto& cs = q->second.consumers;
      cs.erase(std::remove(cs.begin(), cs.end(), std::make_pair(c->id, tag)), cs.end());
    }
    c->consumers.erase(it);
    return okStatus();
  }

  Result<uint64_t> publish(const std::string& exchange, const std::string& routing_key, std::string_view body,
                           bool mandatory, std::optional<int64_t> expiration_ms) override {
    std::lock_guard lock(broker_->mu_);
    FakeBroker::Conn* c = nullptr;
    NWG_RETURN_IF_ERROR(live(c, FakeBroker::Op::kPublish));
    const uint64_t seq = c->next_seq++;
    broker_->published_.push_back(
        {c->id, exchange, routing_key, std::string(body), mandatory, expiration_ms});
    if (!exchange.empty() && !broker_->exchanges_.count(exchange)) {
      // The broker closes the publish channel; AmqpConnection reopens it and numbering starts again.
      c->next_seq = 1;
      c->held.clear();
      AmqpEvent ev;
      ev.kind = AmqpEvent::Kind::kPublishFailed;
      ev.text = "404 NOT_FOUND - no exchange '" + exchange + "' in vhost '/'";
      broker_->pushLocked(*c, std::move(ev));
      return seq;
    }
    broker_->routeLocked(exchange, routing_key, std::string(body), mandatory, c);
    if (broker_->confirm_mode_ == FakeBroker::ConfirmMode::kHold) {
      c->held.push_back(seq);
    } else {
      AmqpEvent ev;
      ev.kind = AmqpEvent::Kind::kConfirm;
      ev.delivery_tag = seq;
      ev.ack = broker_->confirm_mode_ == FakeBroker::ConfirmMode::kAck;
      broker_->pushLocked(*c, std::move(ev));
    }
    return seq;
  }

  Status ack(uint64_t delivery_tag) override {
    std::lock_guard lock(broker_->mu_);
    FakeBroker::Conn* c = nullptr;
    NWG_RETURN_IF_ERROR(live(c, FakeBroker::Op::kAck));
    if (c->unacked.erase(delivery_tag) == 0) {
      broker_->killLocked(*c, "406 PRECONDITION_FAILED - unknown delivery tag");
      return fail("RabbitMQ ", peer_, ": basic.ack: unknown delivery tag ", delivery_tag);
    }
    return okStatus();
  }

  Result<AmqpEvent> poll() override {
    std::lock_guard lock(broker_->mu_);
    FakeBroker::Conn* c = nullptr;
    NWG_RETURN_IF_ERROR(live(c, FakeBroker::Op::kPoll));
    if (c->events.empty()) {
      (void)event_fd_->drain();
      return AmqpEvent{};
    }
    AmqpEvent ev = std::move(c->events.front());
    c->events.pop_front();
    if (c->events.empty()) (void)event_fd_->drain();
    return ev;
  }

  void releaseBuffers() override {}

  void close() override {
    std::lock_guard lock(broker_->mu_);
    if (auto* c = broker_->connLocked(id_); c && c->alive) broker_->killLocked(*c, "closed by the client");
  }

 private:
  // The connection, alive, and the failure injection for `op`.
  Status live(FakeBroker::Conn*& c, FakeBroker::Op op) {
    c = broker_->connLocked(id_);
    if (!c || !c->alive) {
      return fail("RabbitMQ ", peer_, ": connection lost: ", c ? c->why_dead : std::string("closed"));
    }
    return broker_->injectLocked(op, c);
  }

  std::shared_ptr<FakeBroker> broker_;
  uint64_t id_;
  std::shared_ptr<WakeEvent> event_fd_;
  std::string peer_;
};

class FakeTransportFactory final : public AmqpTransportFactory {
 public:
  explicit FakeTransportFactory(std::shared_ptr<FakeBroker> broker) : broker_(std::move(broker)) {}
  Result<std::unique_ptr<AmqpTransport>> open(const AmqpConnectOptions& options,
                                              ConnectInterrupt& interrupt) override {
    auto event_fd = WakeEvent::create();
    if (!event_fd.ok()) return std::move(event_fd).error();
    auto shared_fd = std::make_shared<WakeEvent>(std::move(event_fd).value());
    std::unique_lock lock(broker_->mu_);
    NWG_ASSIGN_OR_RETURN(uint64_t id, broker_->openLocked(options, lock, interrupt));
    FakeBroker::Conn& c = *broker_->conns_[id];
    c.event_fd = shared_fd;
    c.max_body_bytes = options.max_body_bytes;
    const std::string peer = options.host + ":" + std::to_string(options.port);
    return std::unique_ptr<AmqpTransport>(std::make_unique<FakeAmqpTransport>(broker_, id, shared_fd, peer));
  }

 private:
  std::shared_ptr<FakeBroker> broker_;
};

std::shared_ptr<AmqpTransportFactory> FakeBroker::factory() {
  return std::make_shared<FakeTransportFactory>(shared_from_this());
}

Result<uint64_t> FakeBroker::openLocked(const AmqpConnectOptions& o, std::unique_lock<std::mutex>& lock,
                                        ConnectInterrupt& interrupt) {
  const std::string peer = o.host + ":" + std::to_string(o.port);
  ++attempts_;
  cv_.notify_all();
  if (hold_) {
    ++held_opens_;
    cv_.notify_all();
    while (hold_ && !interrupt.requested()) {
      lock.unlock();
      pollfd p{interrupt.wakeFd(), POLLIN, 0};
      if (::poll(&p, 1, 10) > 0) interrupt.drainWake();
      lock.lock();
    }
    --held_opens_;
    if (interrupt.requested()) return fail("connecting to RabbitMQ ", peer, ": interrupted");
  }
  if (refuse_) return fail("cannot connect to RabbitMQ ", peer, ": ", *refuse_);
  NWG_RETURN_IF_ERROR(injectLocked(Op::kOpen, nullptr));
  auto conn = std::make_unique<Conn>();
  conn->id = next_conn_++;
  const uint64_t id = conn->id;
  conns_[id] = std::move(conn);
  return id;
}

Status FakeBroker::injectLocked(Op op, Conn* conn) {
  auto countdown = [op, conn](std::map<Op, Injection>& m) {
    auto it = m.find(op);
    if (it == m.end()) return false;
    if (it->second.connection != 0 && (!conn || conn->id != it->second.connection)) return false;
    if (--it->second.nth > 0) return false;
    m.erase(it);
    return true;
  };
  if (countdown(throw_at_)) throw std::runtime_error("injected exception in the fake transport");
  if (!countdown(fail_at_)) return okStatus();
  if (conn) killLocked(*conn, "injected failure");
  return fail("RabbitMQ fake: injected failure");
}

FakeBroker::Conn* FakeBroker::connLocked(uint64_t id) {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : it->second.get();
}

void FakeBroker::pushLocked(Conn& conn, AmqpEvent event) {
  conn.events.push_back(std::move(event));
  if (conn.event_fd) (void)conn.event_fd->signal();
}

void FakeBroker::killLocked(Conn& conn, const std::string& why) {
  if (!conn.alive) return;
  conn.alive = false;
  conn.why_dead = why;
  conn.events.clear();
  conn.held.clear();
  std::set<std::string> touched;
  for (const auto& [tag, queue] : conn.consumers) {
    auto q = queues_.find(queue);
    if (q == queues_.end()) continue;
    auto& cs = q->second.consumers;
    cs.erase(std::remove(cs.begin(), cs.end(), std::make_pair(conn.id, tag)), cs.end());
  }
  conn.consumers.clear();
  // Unacked messages go back to the front of their queues, in their order.
  for (auto it = conn.unacked.rbegin(); it != conn.unacked.rend(); ++it) {
    auto q = queues_.find(it->second.queue);
    if (q == queues_.end()) continue;
    q->second.ready.push_front(std::move(it->second.message));
    touched.insert(it->second.queue);
  }
  conn.unacked.clear();
  if (conn.event_fd) (void)conn.event_fd->signal();  // the I/O thread wakes and finds it dead
  for (const auto& q : touched) deliverLocked(q);
}

void FakeBroker::routeLocked(const std::string& exchange, const std::string& routing_key,
                             const std::string& body, bool mandatory, Conn* publisher) {
  std::vector<std::string> targets;
  if (exchange.empty()) {
    if (queues_.count(routing_key)) targets.push_back(routing_key);
  } else if (auto ex = exchanges_.find(exchange); ex != exchanges_.end()) {
    for (const auto& [queue, key] : ex->second.bindings) {
      if (ex->second.spec.type == "fanout" || key == routing_key) targets.push_back(queue);
    }
  }
  if (targets.empty()) {
    if (mandatory && publisher) {
      AmqpEvent ev;
      ev.kind = AmqpEvent::Kind::kReturned;
      ev.exchange = exchange;
      ev.routing_key = routing_key;
      ev.text = "312 NO_ROUTE";
      pushLocked(*publisher, std::move(ev));
    }
    return;
  }
  for (const auto& q : targets) {
    queues_[q].ready.push_back(Message{exchange, routing_key, body});
    deliverLocked(q);
  }
}

void FakeBroker::deliverLocked(const std::string& name) {
  auto it = queues_.find(name);
  if (it == queues_.end()) return;
  Queue& q = it->second;
  while (!q.ready.empty() && !q.consumers.empty()) {
    const auto [conn_id, tag] = q.consumers[q.next_consumer++ % q.consumers.size()];
    Conn* c = connLocked(conn_id);
    if (!c || !c->alive) continue;
    Message m = std::move(q.ready.front());
    q.ready.pop_front();
    AmqpEvent ev;
    ev.kind = AmqpEvent::Kind::kDelivery;
    ev.consumer_tag = tag;
    ev.delivery_tag = c->next_delivery++;
    ev.exchange = m.exchange;
    ev.routing_key = m.routing_key;
    ev.body_size = m.body.size();
    if (m.body.size() <= c->max_body_bytes) ev.body = m.body;
    c->unacked[ev.delivery_tag] = Unacked{name, std::move(m)};
    pushLocked(*c, std::move(ev));
  }
}

void FakeBroker::removeQueueLocked(const std::string& name) {
  auto it = queues_.find(name);
  if (it == queues_.end()) return;
  for (const auto& [conn_id, tag] : it->second.consumers) {
    Conn* c = connLocked(conn_id);
    if (!c || !c->alive) continue;
    c->consumers.erase(tag);
    AmqpEvent ev;
    ev.kind = AmqpEvent::Kind::kConsumerCancelled;
    ev.consumer_tag = tag;
    pushLocked(*c, std::move(ev));
  }
  queues_.erase(it);
  for (auto ex = exchanges_.begin(); ex != exchanges_.end();) {
    auto& b = ex->second.bindings;
    const size_t before = b.size();
    b.erase(std::remove_if(b.begin(), b.end(), [&](const auto& x) { return x.first == name; }), b.end());
    // An auto-delete exchange goes with its last binding.
    if (ex->second.spec.auto_delete && before > 0 && b.empty()) {
      ex = exchanges_.erase(ex);
    } else {
      ++ex;
    }
  }
}

void FakeBroker::refuseConnections(std::string why) {
  std::lock_guard lock(mu_);
  refuse_ = std::move(why);
}

void FakeBroker::allowConnections() {
  std::lock_guard lock(mu_);
  refuse_.reset();
}

void FakeBroker::holdConnections() {
  std::lock_guard lock(mu_);
  hold_ = true;
}

void FakeBroker::releaseConnections() {
  std::lock_guard lock(mu_);
  hold_ = false;
}

bool FakeBroker::waitForHeldOpen(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return held_opens_ > 0; });
}

void FakeBroker::failAt(Op op, size_t nth, uint64_t connection) {
  std::lock_guard lock(mu_);
  fail_at_[op] = Injection{nth, connection};
}

void FakeBroker::throwAt(Op op, size_t nth, uint64_t connection) {
  std::lock_guard lock(mu_);
  throw_at_[op] = Injection{nth, connection};
}

void FakeBroker::dropConnections(const std::string& why) {
  std::lock_guard lock(mu_);
  for (auto& [id, c] : conns_) killLocked(*c, why);
}

void FakeBroker::setConfirmMode(ConfirmMode mode) {
  std::lock_guard lock(mu_);
  confirm_mode_ = mode;
}

void FakeBroker::settleHeld(bool ack) {
  std::lock_guard lock(mu_);
  for (auto& [id, c] : conns_) {
    if (!c->alive || c->held.empty()) continue;
    AmqpEvent ev;
    ev.kind = AmqpEvent::Kind::kConfirm;
    ev.delivery_tag = c->held.back();
    ev.multiple = c->held.size() > 1;
    ev.ack = ack;
    c->held.clear();
    pushLocked(*c, std::move(ev));
  }
}

void FakeBroker::inject(const std::string& exchange, const std::string& routing_key,
                        const std::string& body) {
  std::lock_guard lock(mu_);
  published_.push_back({0, exchange, routing_key, body, false, std::nullopt});
  routeLocked(exchange, routing_key, body, false, nullptr);
}

std::vector<FakeBroker::Published> FakeBroker::published() const {
  std::lock_guard lock(mu_);
  return published_;
}

bool FakeBroker::hasQueue(const std::string& name) const {
  std::lock_guard lock(mu_);
  return queues_.count(name) != 0;
}

bool FakeBroker::hasExchange(const std::string& name) const {
  std::lock_guard lock(mu_);
  return exchanges_.count(name) != 0;
}

size_t FakeBroker::ready(const std::string& queue) const {
  std::lock_guard lock(mu_);
  auto it = queues_.find(queue);
  return it == queues_.end() ? 0 : it->second.ready.size();
}

std::vector<std::string> FakeBroker::consumedQueues() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, q] : queues_) {
    if (!q.consumers.empty()) out.push_back(name);
  }
  return out;
}

size_t FakeBroker::attempts() const {
  std::lock_guard lock(mu_);
  return attempts_;
}

size_t FakeBroker::opened() const {
  std::lock_guard lock(mu_);
  return conns_.size();
}

size_t FakeBroker::openConnections() const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(
      std::count_if(conns_.begin(), conns_.end(), [](const auto& c) { return c.second->alive; }));
}

std::vector<std::string> FakeBroker::consumedBy(size_t connection) const {
  std::lock_guard lock(mu_);
  auto it = conns_.find(connection);
  return it == conns_.end() ? std::vector<std::string>{} : it->second->consumed;
}

size_t FakeBroker::heldConfirms() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [id, c] : conns_) n += c->held.size();
  return n;
}

}  // namespace nwg::rpc

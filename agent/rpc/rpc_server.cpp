// RpcServer: oslo's RPC server side (impl_rabbit consumers, rpc/server.py, rpc/dispatcher.py) on a
// transport owned by the caller.
#include "rpc/rpc_server.h"

#include "rpc/envelope.h"
#include "rpc/rpc_reply.h"
#include "rpc/rpc_request.h"
#include "rpc/uuid.h"

namespace nwg::rpc {
namespace {

// Short enough for a log line, long enough to recognize a method or an id.
std::string shown(std::string_view text) {
  return sanitizeForLog(text, 100);
}

}  // namespace

RpcServer::RpcServer(Topology topology, Options options, logging::Log log)
    : topology_(std::move(topology)), options_(std::move(options)), log_(std::move(log)) {}

size_t RpcServer::add(std::string topic, std::shared_ptr<const RpcDispatcher> dispatcher,
                      std::string fanout_hex) {
  auto sub = std::make_unique<Subscription>();
  sub->topic = std::move(topic);
  sub->dispatcher = std::move(dispatcher);
  sub->fanout_hex = std::move(fanout_hex);
  subscriptions_.push_back(std::move(sub));
  return subscriptions_.size() - 1;
}

Status RpcServer::declare(AmqpTransport& t, size_t index) {
  Subscription& sub = *subscriptions_.at(index);
  for (const auto& tag : sub.consumer_tags) by_tag_.erase(tag);
  sub.consumer_tags.clear();
  NWG_RETURN_IF_ERROR(t.declareExchange(topology_.topicExchange()));
  NWG_RETURN_IF_ERROR(t.declareExchange(topology_.fanoutExchange(sub.topic)));
  std::vector<QueueSpec> queues{topology_.topicQueue(sub.topic)};
  if (!options_.host.empty()) queues.push_back(topology_.serverQueue(sub.topic, options_.host));
  queues.push_back(topology_.fanoutQueue(sub.topic, sub.fanout_hex));
  for (const auto& q : queues) {
    NWG_RETURN_IF_ERROR(t.declareQueue(q));
    const std::string tag = str("nwg-", next_tag_++);
    NWG_RETURN_IF_ERROR(t.consume(q.name, tag));
    by_tag_[tag] = &sub;
    sub.consumer_tags.push_back(tag);
  }
  return okStatus();
}

void RpcServer::forgetConsumers() {
  by_tag_.clear();
  for (auto& sub : subscriptions_) sub->consumer_tags.clear();
}

void RpcServer::close(AmqpTransport& t) {
  for (auto& sub : subscriptions_) {
    for (const auto& tag : sub->consumer_tags) (void)t.cancel(tag);
  }
  for (auto& sub : subscriptions_) {
    if (!sub->consumer_tags.empty())
      (void)t.deleteQueue(topology_.fanoutQueue(sub->topic, sub->fanout_hex).name);
  }
  forgetConsumers();
}

void RpcServer::handle(AmqpTransport& t, const AmqpEvent& delivery) {
  auto it = by_tag_.find(delivery.consumer_tag);
  if (it == by_tag_.end()) {
    log_.warning("dropping a message for unknown consumer ", shown(delivery.consumer_tag));
    return;
  }
  handleRequest(t, *it->second, delivery);
}

void RpcServer::handleRequest(AmqpTransport& t, Subscription& sub, const AmqpEvent& delivery) {
  if (delivery.body_size > options_.limits.max_bytes || delivery.body.size() != delivery.body_size) {
    log_.warning("dropping a ", delivery.body_size, "-byte message on topic ", sub.topic, ": more than the ",
                 options_.limits.max_bytes, " bytes accepted");
    return;
  }
  auto inner = Envelope::decode(delivery.body, options_.limits);
  if (!inner.ok()) {
    log_.warning("dropping an undecodable message on topic ", sub.topic, ": ", inner.error().message);
    return;
  }
  auto request = RpcRequest::fromInner(std::move(inner).value());
  if (!request.ok()) {
    log_.warning("dropping an undecodable message on topic ", sub.topic, ": ",
                 sanitizeForLog(request.error().message));
    return;
  }
  if (!sub.seen.firstSeen(request->unique_id)) {
    log_.warning("Found duplicate message(", shown(request->unique_id), "). Skipping it.");
    return;
  }
  const auto rid =
      request->context.is_object() ? request->context.find("request_id") : request->context.end();
  const std::string request_id = rid != request->context.end() && rid->is_string()
                                     ? sanitizeForLog(rid->get_ref<const std::string&>(), 64)
                                     : std::string();
  const std::string method = shown(request->method);
  log_.forRequest(logging::Level::kDebug, request_id, "received ", request->isCall() ? "call " : "cast ",
                  sub.topic, ".", method);
  MethodOutcome outcome;
  // The exception barrier of every method handler: a bug in one must not take the I/O thread down, and
  // the caller gets an exception as an oslo server would send it.
  try {
    outcome = sub.dispatcher->dispatch(*request);
  } catch (const std::exception& e) {
    outcome =
        RemoteError::make("RuntimeError", "builtins", str(sub.topic, ".", method, " failed: ", e.what()));
  } catch (...) {
    outcome = RemoteError::make("RuntimeError", "builtins", str(sub.topic, ".", method, " failed"));
  }
  if (!outcome.ok()) {
    log_.forRequest(logging::Level::kWarning, request_id, sub.topic, ".", method, ": ",
                    sanitizeForLog(outcome.error()->describe(), 500));
  }
  if (!request->isCall()) return;
  RpcReply reply;
  reply.result = outcome.ok() ? outcome.result() : nlohmann::json(nullptr);
  if (!outcome.ok()) reply.failure = outcome.error()->serialize();
  reply.ending = true;
  reply.msg_id = *request->msg_id;
  reply.unique_id = newUuidHex();
  auto seq = t.publish("", *request->reply_q, Envelope::encode(reply.toInner()),
                       options_.direct_mandatory_flag, std::nullopt);
  if (!seq.ok()) {
    log_.forRequest(logging::Level::kWarning, request_id, "cannot send the reply to ", sub.topic, ".", method,
                    " (to ", shown(*request->reply_q), "): ", seq.error().message);
  }
}

}  // namespace nwg::rpc

// ReplyWaiter: oslo's reply algorithm over a map of pending calls.
#include "rpc/reply_waiter.h"

namespace nwg::rpc {

bool ReplyWaiter::expect(const std::string& msg_id, std::string what) {
  auto call = std::make_shared<Call>();
  call->what = std::move(what);
  std::lock_guard lock(mu_);
  if (closed_) return false;
  calls_[msg_id] = std::move(call);
  return true;
}

void ReplyWaiter::completeLocked(Call& call, RpcResult<nlohmann::json> outcome) {
  if (call.outcome) return;  // the first outcome wins
  call.outcome.emplace(std::move(outcome));
  call.done.notify_all();
}

ReplyWaiter::Delivery ReplyWaiter::deliver(const RpcReply& reply) {
  std::lock_guard lock(mu_);
  auto it = calls_.find(reply.msg_id);
  if (it == calls_.end() || it->second->outcome) return Delivery::kUnknownCall;
  Call& call = *it->second;
  if (!reply.result.is_null()) call.result = reply.result;
  if (reply.failure) {
    auto remote = RemoteError::parse(*reply.failure);
    if (!remote.ok()) {
      completeLocked(
          call, RpcError{RpcErrorKind::kMalformedReply, str(call.what, ": ", remote.error().message), {}});
    } else {
      completeLocked(call, RpcError::fromRemote(std::move(remote).value(), call.what));
    }
    return Delivery::kCompleted;
  }
  if (reply.ending) {
    completeLocked(call, std::move(call.result));
    return Delivery::kCompleted;
  }
  return reply.result.is_null() ? Delivery::kHeartbeat : Delivery::kPartial;
}

RpcResult<nlohmann::json> ReplyWaiter::wait(const std::string& msg_id, Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  auto it = calls_.find(msg_id);
  if (it == calls_.end()) return RpcError{RpcErrorKind::kMalformedReply, str("no pending call ", msg_id), {}};
  std::shared_ptr<Call> call = it->second;
  call->done.wait_until(lock, deadline, [&] { return call->outcome.has_value(); });
  calls_.erase(msg_id);
  if (call->outcome) return std::move(*call->outcome);
  if (!call->published) {
    // The request never left: there was no usable connection until the deadline.
    return RpcError{
        RpcErrorKind::kConnectionLost, str(call->what, ": not sent, no connection to RabbitMQ"), {}};
  }
  return RpcError{RpcErrorKind::kTimeout, str(call->what, ": timed out waiting for a reply"), {}};
}

void ReplyWaiter::fail(const std::string& msg_id, RpcError error) {
  std::lock_guard lock(mu_);
  auto it = calls_.find(msg_id);
  if (it != calls_.end()) {
    error.message = str(it->second->what, ": ", error.message);
    completeLocked(*it->second, std::move(error));
  }
}

void ReplyWaiter::complete(const std::string& msg_id, nlohmann::json result) {
  std::lock_guard lock(mu_);
  if (auto it = calls_.find(msg_id); it != calls_.end()) completeLocked(*it->second, std::move(result));
}

void ReplyWaiter::markPublished(const std::string& msg_id) {
  std::lock_guard lock(mu_);
  if (auto it = calls_.find(msg_id); it != calls_.end()) it->second->published = true;
}

bool ReplyWaiter::published(const std::string& msg_id) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(msg_id);
  return it != calls_.end() && it->second->published;
}

void ReplyWaiter::failPublished(RpcErrorKind kind, const std::string& cause) {
  std::lock_guard lock(mu_);
  for (auto& [id, call] : calls_) {
    if (call->published) completeLocked(*call, RpcError{kind, str(call->what, ": ", cause), {}});
  }
}

void ReplyWaiter::failAll(RpcErrorKind kind, const std::string& cause) {
  std::lock_guard lock(mu_);
  for (auto& [id, call] : calls_) completeLocked(*call, RpcError{kind, str(call->what, ": ", cause), {}});
}

void ReplyWaiter::close(RpcErrorKind kind, const std::string& cause) {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (auto& [id, call] : calls_) completeLocked(*call, RpcError{kind, str(call->what, ": ", cause), {}});
}

size_t ReplyWaiter::pending() const {
  std::lock_guard lock(mu_);
  return calls_.size();
}

}  // namespace nwg::rpc

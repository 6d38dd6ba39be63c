// Matches replies to pending calls by _msg_id and applies oslo's reply algorithm (SPEC §4.2): keep a
// non-null result, fail on a failure, finish on ending=true; a message with ending=false and nothing else
// is a call-monitor heartbeat; a reply for an unknown _msg_id (a call that timed out) is ignored.
// Thread-safe: the I/O thread delivers, caller threads wait; each waiter sleeps on its own condition.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "rpc/rpc_error.h"
#include "rpc/rpc_reply.h"

namespace nwg::rpc {

class ReplyWaiter {
 public:
  using Clock = std::chrono::steady_clock;

  // What deliver() did with a reply, for logs and tests.
  enum class Delivery { kUnknownCall, kHeartbeat, kPartial, kCompleted };

  // Registers a call (or a cast waiting for its confirm) before its request is published: a fast reply
  // must find it. `what` names it in error messages ("q-plugin.update_device_list"). False once closed:
  // the caller must not wait (the client is stopping).
  [[nodiscard]] bool expect(const std::string& msg_id, std::string what);

  Delivery deliver(const RpcReply& reply);

  // Blocks until the call completes or `deadline`; then forgets it. At the deadline: kTimeout if the
  // request was published, else kConnectionLost (it never left).
  RpcResult<nlohmann::json> wait(const std::string& msg_id, Clock::time_point deadline);

  // The call's request went out on the current connection (a connection loss now fails it).
  void markPublished(const std::string& msg_id);
  bool published(const std::string& msg_id) const;

  // Completes one call with an error (e.g. its request was refused by the broker).
  void fail(const std::string& msg_id, RpcError error);
  // Completes one waiter with a result (a cast whose publish the broker confirmed).
  void complete(const std::string& msg_id, nlohmann::json result);
  // Completes every call whose request was published (its reply cannot come after a connection loss).
  void failPublished(RpcErrorKind kind, const std::string& cause);
  // Completes every pending call.
  void failAll(RpcErrorKind kind, const std::string& cause);
  // failAll, and every later expect() is refused (shutdown). Atomic with expect(): a caller racing with
  // close() either is failed by it or is refused, never left waiting.
  void close(RpcErrorKind kind, const std::string& cause);

  size_t pending() const;

 private:
  struct Call {
    std::string what;
    bool published = false;
    nlohmann::json result;  // the last non-null result seen
    std::optional<RpcResult<nlohmann::json>> outcome;
    std::condition_variable done;
  };

  void completeLocked(Call& call, RpcResult<nlohmann::json> outcome);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Call>, std::less<>> calls_;
  bool closed_ = false;
};

}  // namespace nwg::rpc

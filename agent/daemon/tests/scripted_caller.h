// An RpcCaller for daemon unit tests: records every call and answers from a script (thread-safe: the
// heartbeat calls from its own thread). An empty script answers null.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rpc/rpc_caller.h"

namespace nwg::daemon {

class ScriptedCaller : public rpc::RpcCaller {
 public:
  struct Sent {
    rpc::RpcTarget target;
    std::string method;
    nlohmann::json args;
  };

  rpc::RpcResult<nlohmann::json> call(const rpc::RpcTarget& target, const std::string& method,
                                      nlohmann::json args,
                                      std::optional<std::chrono::milliseconds>) override {
    std::function<rpc::RpcResult<nlohmann::json>()> answer;
    {
      std::lock_guard lock(mu_);
      sent_.push_back({target, method, std::move(args)});
      if (!answers_.empty()) {
        answer = std::move(answers_.front());
        answers_.pop_front();
      }
      cv_.notify_all();
    }
    return answer ? answer() : rpc::RpcResult<nlohmann::json>(nlohmann::json(nullptr));
  }
  rpc::RpcStatus cast(const rpc::RpcTarget& target, const std::string& method, nlohmann::json args) override {
    std::lock_guard lock(mu_);
    sent_.push_back({target, method, std::move(args)});
    cv_.notify_all();
    return std::monostate{};
  }

  void answer(rpc::RpcResult<nlohmann::json> result) {
    std::lock_guard lock(mu_);
    answers_.push_back([r = std::move(result)]() { return r; });
  }
  void answerWith(std::function<rpc::RpcResult<nlohmann::json>()> fn) {
    std::lock_guard lock(mu_);
    answers_.push_back(std::move(fn));
  }
  std::vector<Sent> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }
  // Waits until `n` calls were made (bounded: false after 30 s).
  bool waitForCalls(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return sent_.size() >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Sent> sent_;
  std::deque<std::function<rpc::RpcResult<nlohmann::json>()>> answers_;
};

}  // namespace nwg::daemon

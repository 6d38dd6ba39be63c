// Resolves spoke endpoints given as DNS names, off the reconcile thread. A resolver that never
// answers must not delay any hub: the reconciler asks for what is known now (query), waits at most a
// small per-pass budget for names it has never seen resolved (wait), and plans with whatever is known;
// a lookup that finishes later, or a refresh that finds another address, is reported through
// `on_change` so that the hubs using that name are synced again. Names are re-resolved every
// `refresh_interval` (as wg-quick's reresolve-dns does), failed ones every `retry_interval`.
//
// Threads: `workers` threads run the blocking lookup (getaddrinfo in the agent); query/wait/refresh
// are called from the reconcile thread; on_change runs on a worker thread and must only mark work.
// A worker stuck in a lookup is left behind at destruction (detached; it holds only shared state);
// once the destructor returns, on_change is never called again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/ip.h"
#include "base/result.h"

namespace nwg::reconcile {

class EndpointResolver {
 public:
  using Clock = std::chrono::steady_clock;
  using Lookup = std::function<Result<IpAddress>(const std::string& host)>;  // blocking
  using OnChange = std::function<void(const std::string& host)>;

  struct Options {
    size_t workers = 2;
    std::chrono::milliseconds refresh_interval{300000};
    std::chrono::milliseconds retry_interval{30000};
    size_t max_names = 100000;  // names beyond this are not resolved (the hub's spokes stay without)
  };

  struct Answer {
    enum class State { kPending, kResolved, kFailed };
    State state = State::kPending;
    std::optional<IpAddress> address;  // kResolved
    std::string error;                 // kFailed: why
  };

  EndpointResolver(Lookup lookup, Options options, OnChange on_change = {});
  ~EndpointResolver();
  EndpointResolver(const EndpointResolver&) = delete;
  EndpointResolver& operator=(const EndpointResolver&) = delete;

  // What is known of `host` now; starts a lookup when nothing is known yet. (Known answers are
  // renewed by refresh(); a stale answer is still returned until the new one arrives.)
  Answer query(const std::string& host);
  // Blocks until none of `hosts` is pending or `deadline`.
  void wait(const std::set<std::string>& hosts, Clock::time_point deadline);
  // Forgets names not in `in_use` and starts lookups of stale ones (a full pass calls it).
  void refresh(const std::set<std::string>& in_use);

  // Lookups running or queued now (for tests and logs).
  size_t busy() const;

 private:
  struct Entry {
    Answer answer;
    Clock::time_point at{};  // when the answer arrived
    bool queued = false;     // a lookup is queued or running
  };
  struct State {
    Lookup lookup;
    OnChange on_change;
    std::mutex mu;
    std::condition_variable work;  // workers wait for jobs
    std::condition_variable done;  // wait() waits for answers
    std::deque<std::string> jobs;
    std::map<std::string, Entry> entries;
    size_t running = 0;
    size_t notifying = 0;  // on_change calls in progress (the destructor waits for them)
    bool stopping = false;
  };

  static void work(const std::shared_ptr<State>& state);
  bool staleLocked(const Entry& e, Clock::time_point now) const;
  void enqueueLocked(const std::string& host, Entry& e);

  Options options_;
  std::shared_ptr<State> state_;
  std::vector<std::thread> workers_;
};

}  // namespace nwg::reconcile

#include "reconcile/endpoint_resolver.h"

#include <exception>

#include "base/strings.h"

namespace nwg::reconcile {

EndpointResolver::EndpointResolver(Lookup lookup, Options options, OnChange on_change)
    : options_(options), state_(std::make_shared<State>()) {
  state_->lookup = std::move(lookup);
  state_->on_change = std::move(on_change);
  for (size_t i = 0; i < std::max<size_t>(options_.workers, 1); ++i) {
    try {
      workers_.emplace_back([state = state_] { work(state); });
    } catch (const std::system_error&) {
      // Fewer workers than asked (thread limit): names resolve more slowly, or, with none, never
      // (their spokes stay without an endpoint and can still reach the hub).
      break;
    }
  }
}

EndpointResolver::~EndpointResolver() {
  {
    std::unique_lock lock(state_->mu);
    state_->stopping = true;
    state_->jobs.clear();
    state_->work.notify_all();
    state_->done.notify_all();
    // on_change may refer to objects that die after us: let a call in progress finish.
    state_->done.wait(lock, [&] { return state_->notifying == 0; });
  }
  // A worker inside getaddrinfo cannot be interrupted; it owns a reference to the state and ends on
  // its own when the lookup returns.
  for (auto& t : workers_) t.detach();
}

void EndpointResolver::work(const std::shared_ptr<State>& state) {
  std::unique_lock lock(state->mu);
  while (true) {
    state->work.wait(lock, [&] { return state->stopping || !state->jobs.empty(); });
    if (state->stopping) return;
    std::string host = std::move(state->jobs.front());
    state->jobs.pop_front();
    ++state->running;
    lock.unlock();
    Answer answer;
    try {
      auto address = state->lookup(host);
      if (address.ok()) {
        answer.state = Answer::State::kResolved;
        answer.address = *address;
      } else {
        answer.state = Answer::State::kFailed;
        answer.error = address.error().message;
      }
    } catch (const std::exception& e) {
      answer.state = Answer::State::kFailed;
      answer.error = str("lookup failed: ", e.what());
    }
    lock.lock();
    --state->running;
    if (state->stopping) return;
    auto it = state->entries.find(host);
    if (it == state->entries.end()) continue;  // forgotten meanwhile
    Entry& e = it->second;
    const bool changed = e.answer.state != answer.state || e.answer.address != answer.address;
    e.answer = std::move(answer);
    e.at = Clock::now();
    e.queued = false;
    state->done.notify_all();
    if (changed && state->on_change) {
      ++state->notifying;
      lock.unlock();
      try {
        state->on_change(host);
      } catch (...) {
        // A callback that only marks work cannot usefully fail; never let it end the worker.
      }
      lock.lock();
      --state->notifying;
      state->done.notify_all();
    }
  }
}

bool EndpointResolver::staleLocked(const Entry& e, Clock::time_point now) const {
  switch (e.answer.state) {
    case Answer::State::kPending:
      return false;
    case Answer::State::kResolved:
      return now - e.at >= options_.refresh_interval;
    case Answer::State::kFailed:
      return now - e.at >= options_.retry_interval;
  }
  return false;
}

void EndpointResolver::enqueueLocked(const std::string& host, Entry& e) {
  if (e.queued || state_->stopping) return;
  e.queued = true;
  state_->jobs.push_back(host);
  state_->work.notify_one();
}

EndpointResolver::Answer EndpointResolver::query(const std::string& host) {
  std::lock_guard lock(state_->mu);
  auto it = state_->entries.find(host);
  if (it == state_->entries.end()) {
    if (state_->entries.size() >= options_.max_names) {
      Answer full;
      full.state = Answer::State::kFailed;
      full.error = str("more than ", options_.max_names, " endpoint names to resolve");
      return full;
    }
    it = state_->entries.emplace(host, Entry{}).first;
  }
  Entry& e = it->second;
  if (e.answer.state == Answer::State::kPending) enqueueLocked(host, e);  // refresh() renews the others
  return e.answer;
}

void EndpointResolver::wait(const std::set<std::string>& hosts, Clock::time_point deadline) {
  std::unique_lock lock(state_->mu);
  state_->done.wait_until(lock, deadline, [&] {
    if (state_->stopping) return true;
    for (const auto& h : hosts) {
      auto it = state_->entries.find(h);
      if (it != state_->entries.end() && it->second.answer.state == Answer::State::kPending) return false;
    }
    return true;
  });
}

void EndpointResolver::refresh(const std::set<std::string>& in_use) {
  std::lock_guard lock(state_->mu);
  const auto now = Clock::now();
  for (auto it = state_->entries.begin(); it != state_->entries.end();) {
    if (!in_use.count(it->first)) {
      it = state_->entries.erase(it);
      continue;
    }
    if (staleLocked(it->second, now)) enqueueLocked(it->first, it->second);
    ++it;
  }
}

size_t EndpointResolver::busy() const {
  std::lock_guard lock(state_->mu);
  return state_->running + state_->jobs.size();
}

}  // namespace nwg::reconcile

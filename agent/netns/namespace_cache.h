// NamespaceCache<T>: one object per named network namespace (a netlink socket, the /proc/sys files of
// a namespace), opened inside that namespace once and reused, so that an operation in a namespace
// costs no thread and no setns() once its object is open: only a stat of the name.
//
// Never the wrong namespace: an entry remembers the identity (device, inode) of the namespace it was
// opened in, and every use compares it with what the name denotes now. A namespace deleted and
// re-created under the same name has another identity, because the entry's object keeps the old
// namespace open (so its inode number cannot be reused): the entry is dropped and a new object opened.
// Objects that do not keep their namespace alive by themselves must keep the Pinned descriptor they
// are opened with (see open()).
//
// Bounded: an entry is closed when LinuxNamespaces removes its namespace or no longer lists it, when
// a use finds its name gone or re-created, and the least recently used entry makes room beyond
// `capacity` (by default sized from the descriptor limit); out of descriptors, the older half goes.
// Until then it keeps its namespace alive, as any open socket in it would.
//
// Thread-safe: one mutex, held for the whole of a use (a netlink socket serves one request at a time).
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "base/result.h"
#include "netns/linux_namespaces.h"

namespace nwg {

template <typename T>
class NamespaceCache final : public LinuxNamespaces::Holder {
 public:
  static constexpr size_t kDefaultCapacity = 256;

  // kDefaultCapacity, or less when the process may open few descriptors: an agent serving many
  // namespaces keeps a few descriptors per namespace in each of its caches (route and generic
  // netlink sockets, /proc/sys files), and they must leave room for everything else it opens.
  static size_t capacityForDescriptorLimit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return kDefaultCapacity;
    return std::clamp<size_t>(static_cast<size_t>(limit.rlim_cur / 16), 16, kDefaultCapacity);
  }

  // Opens the object for a namespace, inside it (LinuxNamespaces::openSocket/runIn with `ns`).
  using Open = std::function<Result<T>(LinuxNamespaces::Pinned& ns)>;
  // After a failed use: true when the object itself is broken (a socket whose I/O failed), not just
  // the operation refused; the entry is then dropped.
  using Broken = std::function<bool(const T&)>;

  // Whether a use that failed on a broken, reused object runs once more on a fresh object. Only for
  // uses that may safely run twice (reads, idempotent writes): the failed attempt may have acted.
  enum class Retry { kOnce, kNever };

  NamespaceCache(const LinuxNamespaces& namespaces, Open open, Broken broken,
                 size_t capacity = capacityForDescriptorLimit())
      : namespaces_(namespaces),
        open_(std::move(open)),
        broken_(std::move(broken)),
        capacity_(capacity < 1 ? 1 : capacity) {
    namespaces_.attach(this);
  }
  ~NamespaceCache() override { namespaces_.detach(this); }
  NamespaceCache(const NamespaceCache&) = delete;
  NamespaceCache& operator=(const NamespaceCache&) = delete;

  // Runs `use(T&)` with the object of namespace `netns` ("" = the agent's own), opening it first when
  // there is none or the name now denotes another namespace. Returns what `use` returns (a Result or
  // Status), or the error of opening (ENOENT when there is no such namespace). `use` must not call
  // LinuxNamespaces::list() or remove() (they lock every Holder).
  template <typename Use>
  std::invoke_result_t<Use&, T&> with(const std::string& netns, Use&& use, Retry retry = Retry::kOnce) {
    using R = std::invoke_result_t<Use&, T&>;
    std::lock_guard lock(mutex_);
    auto it = entries_.find(netns);
    if (it != entries_.end() && !netns.empty()) {
      auto now = namespaces_.identityOf(netns);
      if (!now.ok() || !(*now == it->second.id)) {
        entries_.erase(it);
        it = entries_.end();
      }
    }
    const bool reused = it != entries_.end();
    if (!reused) {
      auto opened = openEntry(netns);
      if (!opened.ok()) return R(std::move(opened).error());
      it = *opened;
    }
    it->second.last_use = ++tick_;
    R result = use(it->second.value);
    if (result.ok() || !broken_(it->second.value)) return result;
    entries_.erase(it);
    ++broken_count_;
    if (!reused || retry == Retry::kNever) return result;
    auto opened = openEntry(netns);
    if (!opened.ok()) return result;  // the first failure says more than the reopen's
    it = *opened;
    it->second.last_use = ++tick_;
    R again = use(it->second.value);
    if (!again.ok() && broken_(it->second.value)) {
      entries_.erase(it);
      ++broken_count_;
    }
    return again;
  }

  // Closes the object of `netns`, if any.
  void release(const std::string& netns) override {
    std::lock_guard lock(mutex_);
    entries_.erase(netns);
  }
  void releaseAllBut(std::span<const std::string> names) override {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      bool keep = it->first.empty() || std::binary_search(names.begin(), names.end(), it->first);
      it = keep ? std::next(it) : entries_.erase(it);
    }
  }

  // For tests and logs: namespaces with an open object, objects opened, objects dropped as broken.
  size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }
  size_t opened() const {
    std::lock_guard lock(mutex_);
    return opened_count_;
  }
  size_t broken() const {
    std::lock_guard lock(mutex_);
    return broken_count_;
  }

 private:
  struct Entry {
    LinuxNamespaces::Identity id;
    T value;
    uint64_t last_use = 0;
  };
  using Iterator = typename std::map<std::string, Entry>::iterator;

  Result<Iterator> openEntry(const std::string& netns) {
    auto made = make(netns);
    if (!made.ok() && (made.error().code == EMFILE || made.error().code == ENFILE) && !entries_.empty()) {
      // Out of descriptors: give back the older half of ours and try once more.
      evictOldest(entries_.size() / 2 + 1);
      made = make(netns);
    }
    if (!made.ok()) return std::move(made).error();
    if (entries_.size() >= capacity_) evictOldest(entries_.size() - capacity_ + 1);
    ++opened_count_;
    return entries_.insert_or_assign(netns, std::move(made).value()).first;
  }

  Result<Entry> make(const std::string& netns) {
    NWG_ASSIGN_OR_RETURN(LinuxNamespaces::Pinned ns, namespaces_.pin(netns));
    const LinuxNamespaces::Identity id = ns.id;
    NWG_ASSIGN_OR_RETURN(T value, open_(ns));
    return Entry{id, std::move(value), 0};
  }

  void evictOldest(size_t count) {
    for (size_t n = 0; n < count && !entries_.empty(); ++n) {
      auto oldest = entries_.begin();
      for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->second.last_use < oldest->second.last_use) oldest = it;
      }
      entries_.erase(oldest);
    }
  }

  const LinuxNamespaces& namespaces_;
  const Open open_;
  const Broken broken_;
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  uint64_t tick_ = 0;
  size_t opened_count_ = 0;
  size_t broken_count_ = 0;
};

}  // namespace nwg

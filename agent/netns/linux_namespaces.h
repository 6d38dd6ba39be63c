// LinuxNamespaces: named network namespaces the way iproute2 makes them (a bind mount of the namespace
// on /run/netns/NAME), so `ip netns exec NAME ...` works on ours and we see those `ip netns add` made.
// setns() happens only on short-lived worker threads, never on the caller's thread: runIn() and
// openSocket() are how the rest of the agent acts inside a namespace. Objects opened inside a
// namespace are reused through NamespaceCache (netns/namespace_cache.h), which needs no thread at all
// once an object is open; sysctl() and setSysctl() keep their /proc/sys files that way.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "netns/namespaces.h"

namespace nwg {

template <typename T>
class NamespaceCache;

class LinuxNamespaces : public Namespaces {
 public:
  // `run_dir` is where named namespaces live; only tests pass anything but iproute2's /run/netns.
  explicit LinuxNamespaces(std::string run_dir = kRunDir);
  ~LinuxNamespaces() override;
  // Caches refer to the instance they were made with.
  LinuxNamespaces(const LinuxNamespaces&) = delete;
  LinuxNamespaces& operator=(const LinuxNamespaces&) = delete;

  static constexpr const char* kRunDir = "/run/netns";

  // Also tells every Holder to close what it holds in namespaces whose names are gone.
  Result<std::vector<std::string>> list() override;
  Result<bool> exists(const std::string& name) override;
  Status create(const std::string& name) override;
  // Also tells every Holder to close what it holds in that namespace, so nothing of ours keeps the
  // removed namespace (and the links still inside it) alive.
  Status remove(const std::string& name) override;
  // Both reuse the /proc/sys file opened inside the namespace by an earlier call (see
  // NamespaceCache for why a file never reaches a namespace re-created under the same name).
  Status setSysctl(const std::string& netns, const std::string& key, const std::string& value) override;
  Result<std::string> sysctl(const std::string& netns, const std::string& key) override;

  // Runs `fn` inside namespace `netns` on a fresh thread that joined it with setns() and ends with
  // `fn`; "" runs `fn` on the caller's thread (the agent's own namespace). Fails with ENOENT when
  // there is no such namespace. Sockets and /proc/sys files opened by `fn` stay bound to `netns`.
  Status runIn(const std::string& netns, const std::function<Status()>& fn) const;

  // A socket created inside `netns` (it keeps operating there whatever thread uses it later).
  Result<UniqueFd> openSocket(const std::string& netns, int domain, int type, int protocol) const;

  // A descriptor of the namespace itself (for IFLA_NET_NS_FD); "" is the agent's own.
  Result<UniqueFd> openNamespace(const std::string& netns) const;

  std::string pathOf(const std::string& name) const { return run_dir_ + "/" + name; }

  // What a name denotes: the device and inode of the namespace bind-mounted on it (`ip netns
  // identify` compares the same). A namespace deleted and re-created under the same name has another
  // identity, as long as something holds the old one open: only then can its inode not be reused.
  struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
    bool operator==(const Identity&) const = default;
  };

  // A namespace held open. The descriptor keeps it alive and denotes exactly it, whatever its name
  // means later. `name` "" is the agent's own namespace.
  struct Pinned {
    std::string name;
    UniqueFd fd;
    Identity id;
  };

  // Opens namespace `netns` ("" = own). ENOENT when no namespace is mounted on that name (nothing,
  // or the plain file an interrupted create left).
  Result<Pinned> pin(const std::string& netns) const;
  // The identity `netns` denotes now (one stat); ENOENT when nothing has that name.
  Result<Identity> identityOf(const std::string& netns) const;
  // As runIn() and openSocket() by name, but inside exactly the pinned namespace.
  Status runIn(const Pinned& ns, const std::function<Status()>& fn) const;
  Result<UniqueFd> openSocket(const Pinned& ns, int domain, int type, int protocol) const;

  // Something that keeps objects opened inside named namespaces (NamespaceCache). Those objects keep
  // their namespace alive, so they are closed as soon as the name is known to be gone.
  class Holder {
   public:
    virtual ~Holder() = default;
    // Close what is held for namespace `netns`.
    virtual void release(const std::string& netns) = 0;
    // Close what is held for every named namespace not in `names` (sorted).
    virtual void releaseAllBut(std::span<const std::string> names) = 0;
  };
  // A Holder registers for its lifetime; both are safe from any thread.
  void attach(Holder* holder) const;
  void detach(Holder* holder) const;

 private:
  struct SysctlFiles;

  Status prepareRunDir() const;

  std::string run_dir_;
  mutable std::mutex holders_mutex_;
  mutable std::vector<Holder*> holders_;
  std::unique_ptr<NamespaceCache<SysctlFiles>> sysctl_files_;
};

}  // namespace nwg

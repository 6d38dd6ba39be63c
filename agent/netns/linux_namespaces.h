// LinuxNamespaces: named network namespaces the way iproute2 makes them (a bind mount of the namespace
// on /run/netns/NAME), so `ip netns exec NAME ...` works on ours and we see those `ip netns add` made.
// setns() happens only on short-lived worker threads, never on the caller's thread: runIn() and
// openSocket() are how the rest of the agent acts inside a namespace.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "netns/namespaces.h"

namespace nwg {

class LinuxNamespaces : public Namespaces {
 public:
  // `run_dir` is where named namespaces live; only tests pass anything but iproute2's /run/netns.
  explicit LinuxNamespaces(std::string run_dir = kRunDir) : run_dir_(std::move(run_dir)) {}

  static constexpr const char* kRunDir = "/run/netns";

  Result<std::vector<std::string>> list() override;
  Result<bool> exists(const std::string& name) override;
  Status create(const std::string& name) override;
  Status remove(const std::string& name) override;
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

 private:
  Status prepareRunDir() const;

  std::string run_dir_;
};

}  // namespace nwg

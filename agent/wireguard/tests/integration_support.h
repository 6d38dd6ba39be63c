// Helpers for the root-only tests that run real wireguard-go daemons and network namespaces. Every
// host-global name carries testing::runToken(), so colleagues' concurrent runs never collide.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "testing/testing.h"
#include "wireguard/uapi/uapi_backend.h"

namespace nwg::wg::testsupport {

inline const char* kWireguardGo = "/usr/bin/wireguard-go";

// "wgt-<token>-<n>": at most 15 characters.
inline std::string freshName() {
  static std::atomic<int> n{0};
  return str("wgt-", testing::runToken(), "-", n++);
}

// Why wireguard-go tests cannot run here, or "" when they can.
inline std::string wireguardGoMissing() {
  if (!testing::isRoot()) return "needs root (wireguard-go creates tun devices)";
  if (!UapiBackend::available(kWireguardGo)) return str(kWireguardGo, " or /dev/net/tun missing");
  return "";
}

inline UapiBackendOptions testOptions() {
  UapiBackendOptions o;
  o.wireguard_go = kWireguardGo;
  o.memory_limit = "256MiB";
  return o;
}

// Runs a shell command quietly; its exit status.
inline int sh(const std::string& command) {
  int rc = std::system((command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Runs `fn` on a thread that has joined the named network namespace (namespaces are per thread), so
// that a wireguard-go spawned there binds its UDP socket inside it.
template <typename Fn>
Status inNetns(const std::string& netns, Fn fn) {
  Status result;
  std::thread t([&] {
    int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
      result = Error::fromErrno(errno, "joining netns " + netns);
      if (fd >= 0) ::close(fd);
      return;
    }
    ::close(fd);
    result = fn();
  });
  t.join();
  return result;
}

// True while `pid` exists and is not a zombie (the init here reaps slowly; kill -0 says yes to
// zombies), or is a zombie leader whose other threads still hold its files open.
inline bool processAlive(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat(dir + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return false;
  if (line[close + 2] != 'Z') return true;
  std::error_code ec;
  auto it = std::filesystem::directory_iterator(dir + "/fd", ec);
  return !ec && it != std::filesystem::directory_iterator();
}

// True if a unix stream socket at `path` accepts a connection.
inline bool socketAccepts(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// The NUL-separated environment of `pid`, as lines.
inline std::string environOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string env = ss.str();
  for (char& c : env) {
    if (c == '\0') c = '\n';
  }
  return env;
}

// A UDP port that is free now in this namespace (the kernel picks it; a later bind may still lose it
// to another program, so callers retry).
inline uint16_t freeUdpPort() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

}  // namespace nwg::wg::testsupport

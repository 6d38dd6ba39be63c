// wireguard-go process management: spawn in a new session, find by tun fd, stop through a pidfd.
#include "wireguard/uapi/wireguard_go_processes.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "base/spawn.h"
#include "base/unique_fd.h"

namespace nwg::wg::uapi {
namespace {

using Clock = std::chrono::steady_clock;

// Raw system calls: glibc 2.36's <sys/pidfd.h> lacks extern "C" and cannot be used from C++.
int pidfdOpen(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0u));
}
int pidfdSignal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0u));
}

// Reads at most `max` bytes of a small /proc file; "" if it cannot be read (the process went away).
std::string readSmallFile(const std::string& path, size_t max = 4096) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  std::string out(max, '\0');
  size_t got = 0;
  while (got < max) {
    ssize_t n = ::read(fd.get(), out.data() + got, max - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

// The launcher's output pipe: the agent reads one end, the launcher writes the other.
struct OutputPipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

bool isNumber(const char* s) {
  if (!*s) return false;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9') return false;
  }
  return true;
}

// True if one of `pid`'s file descriptors is a tun attached to `ifname`.
bool holdsTun(const std::string& pid, std::string_view ifname) {
  std::string fd_dir = str("/proc/", pid, "/fd");
  DIR* dir = ::opendir(fd_dir.c_str());
  if (!dir) return false;
  const std::string want = str("iff:\t", ifname, "\n");
  bool found = false;
  while (dirent* e = ::readdir(dir)) {
    if (!isNumber(e->d_name)) continue;
    char target[64] = {};
    std::string link = str(fd_dir, "/", e->d_name);
    ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0 || std::string_view(target, static_cast<size_t>(n)) != "/dev/net/tun") continue;
    std::string info = readSmallFile(str("/proc/", pid, "/fdinfo/", e->d_name));
    if (info.find(want) != std::string::npos) {
      found = true;
      break;
    }
  }
  ::closedir(dir);
  return found;
}

// What wireguard-go printed, without its boxed "not required on this kernel" banner, bounded.
std::string cleanOutput(const std::string& raw) {
  std::string out;
  for (std::string_view line : split(raw, '\n')) {
    line = trim(line);
    if (line.empty() || line.find("\u2502") != std::string_view::npos || startsWith(line, "\u250c") ||
        startsWith(line, "\u2514")) {
      continue;
    }
    if (!out.empty()) out += " | ";
    out.append(line);
  }
  if (out.size() > 400) out = out.substr(0, 400) + "...";
  return out.empty() ? "no output" : out;
}

std::string describeExit(int status) {
  if (WIFEXITED(status)) return str("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return str("was killed by signal ", WTERMSIG(status));
  return str("ended with wait status ", status);
}

}  // namespace

bool isValidMemoryLimit(std::string_view limit) {
  if (limit == "off" || limit == "auto") return true;
  size_t digits = 0;
  while (digits < limit.size() && limit[digits] >= '0' && limit[digits] <= '9') ++digits;
  if (digits == 0 || digits > 19) return false;
  std::string_view unit = limit.substr(digits);
  return unit.empty() || unit == "B" || unit == "KiB" || unit == "MiB" || unit == "GiB" || unit == "TiB";
}

std::string goMemoryLimitFor(std::string_view setting, size_t expected_peers) {
  if (setting != "auto") return std::string(setting);
  constexpr size_t kBaseMiB = 256;
  constexpr size_t kKiBPerPeer = 16;
  const size_t peers = std::min<size_t>(expected_peers, size_t{1} << 32);  // no overflow below
  return str(kBaseMiB + (peers * kKiBPerPeer + 1023) / 1024, "MiB");
}

Status WireguardGoProcesses::start(const std::string& ifname, size_t expected_peers) const {
  const std::string& bin = options_.binary;
  const bool to_log = !options_.log_dir.empty();
  // A clean environment: nothing of the agent's leaks in. Above all no WG_PROCESS_FOREGROUND other
  // than 1 (a daemon would re-daemonize forever), and no WG_TUN_FD / WG_UAPI_FD. Without LOG_LEVEL
  // the daemon child sends its log to /dev/null, so our pipe only ever carries the launcher's output
  // and the daemon can never die of SIGPIPE once we close it.
  std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  if (!options_.memory_limit.empty())
    env.push_back("GOMEMLIMIT=" + goMemoryLimitFor(options_.memory_limit, expected_peers));
  if (to_log) env.push_back("LOG_LEVEL=" + (options_.log_level.empty() ? "error" : options_.log_level));
  OutputPipe out;
  if (!to_log) {
    int fds[2] = {-1, -1};
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
      return Error::fromErrno(errno, str("device ", ifname, ": pipe for wireguard-go's output"));
    }
    out.read_end.reset(fds[0]);
    out.write_end.reset(fds[1]);
  }
  SpawnSpec spec;
  spec.argv = {bin, ifname};
  spec.env = std::move(env);
  if (to_log)
    spec.stdout_path = str(options_.log_dir, "/", ifname, ".log");
  else
    spec.stdout_fd = out.write_end.get();
  // A new session: a signal to the agent's process group (Ctrl-C, a supervisor stopping the agent)
  // must not reach the daemon, which wireguard-go would take as "remove the device".
  spec.new_session = true;
  auto spawned = spawnProcess(spec);
  out.write_end.reset();  // the launcher has its copy; EOF on ours then means it is gone
  if (!spawned) return std::move(spawned).error().context(str("device ", ifname));
  const pid_t pid = *spawned;

  // The launcher creates the tun and the socket, forks the daemon and exits (about 10 ms).
  std::string output;
  auto deadline = Clock::now() + options_.start_timeout;
  int status = 0;
  while (true) {
    if (out.read_end) {
      pollfd pfd{out.read_end.get(), POLLIN, 0};
      if (::poll(&pfd, 1, 2) > 0) {
        char buf[4096];
        ssize_t n = ::read(out.read_end.get(), buf, sizeof buf);
        if (n > 0 && output.size() < 65536) output.append(buf, static_cast<size_t>(n));
        if (n == 0) out.read_end.reset();  // EOF: the launcher is gone or closing
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR)
      return Error::fromErrno(errno, str("device ", ifname, ": waiting for wireguard-go"));
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return Error(str("device ", ifname, ": wireguard-go did not finish starting within ",
                       options_.start_timeout.count(), " ms; killed it"),
                   ETIMEDOUT);
    }
  }
  if (out.read_end) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out.read_end.get(), buf, sizeof buf)) > 0 && output.size() < 65536) {
      output.append(buf, static_cast<size_t>(n));
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (to_log) output = readSmallFile(spec.stdout_path, 65536);
    return Error(str("device ", ifname, ": wireguard-go ", describeExit(status), ": ", cleanOutput(output)),
                 EIO);
  }
  return okStatus();
}

std::vector<pid_t> WireguardGoProcesses::findServing(std::string_view ifname, bool only_named) const {
  std::string comm_name = options_.binary.substr(options_.binary.rfind('/') + 1).substr(0, 15);
  std::vector<pid_t> pids;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return pids;
  while (dirent* e = ::readdir(proc.get())) {
    if (!isNumber(e->d_name)) continue;
    std::string pid = e->d_name;
    if (only_named && trim(readSmallFile(str("/proc/", pid, "/comm"), 64)) != comm_name) continue;
    if (holdsTun(pid, ifname)) pids.push_back(static_cast<pid_t>(std::stol(pid)));
  }
  return pids;
}

Status WireguardGoProcesses::stop(pid_t pid, std::string_view ifname) const {
  // A pidfd pins the process: once it is open and the process still holds our tun, the signal cannot
  // reach a different process that reused the PID.
  UniqueFd pidfd(pidfdOpen(pid));
  if (!pidfd) {
    if (errno == ESRCH) return okStatus();
    return Error::fromErrno(errno, str("device ", ifname, ": pidfd_open(", pid, ")"));
  }
  auto waitExit = [fd = pidfd.get()](std::chrono::milliseconds timeout) {
    pollfd pfd{fd, POLLIN, 0};
    auto deadline = Clock::now() + timeout;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      int n = ::poll(&pfd, 1, static_cast<int>(left > 0 ? left : 0));
      if (n > 0) return true;
      if (n == 0) return false;
      if (errno != EINTR) return false;
    }
  };
  Status result;
  if (!holdsTun(std::to_string(pid), ifname)) {
    result = okStatus();  // exited (or PID reused) since it was found
  } else if (pidfdSignal(pidfd.get(), SIGTERM) != 0 && errno != ESRCH) {
    result = Error::fromErrno(errno, str("device ", ifname, ": SIGTERM to wireguard-go pid ", pid));
  } else if (!waitExit(options_.stop_timeout)) {
    // Stuck: SIGKILL removes the tun (not persistent) but leaves a stale socket for the caller.
    pidfdSignal(pidfd.get(), SIGKILL);
    if (!waitExit(std::chrono::milliseconds(2000))) {
      result = Error(str("device ", ifname, ": wireguard-go pid ", pid, " survives SIGKILL"), EBUSY);
    }
  }
  return result;
}

}  // namespace nwg::wg::uapi

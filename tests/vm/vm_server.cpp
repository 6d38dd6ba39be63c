// The control channel of a kernel VM that stays up (scripts/kernel-vm --serve): a small command server
// that host-side tests drive over TCP (qemu user networking forwards a host port to it). It names the
// VM's NICs by MAC and gives them their addresses, then serves one JSON request per connection:
//
//   {"op": "exec", "argv": [...], "timeout": 30, "stdin": "..."}  -> {"rc", "stdout", "stderr"}
//   {"op": "spawn", "argv": [...], "log": "/path"}                 -> {"pid"}  (own session, output to log)
//   {"op": "signal", "pid": N, "signal": 15}                       -> {}       (to its process group)
//   {"op": "wait", "pid": N, "timeout": 30}                        -> {"exited", "status"}
//   {"op": "read", "path": "...", "offset": 0}                     -> {"data", "size"}
//   {"op": "write", "path": "...", "data": "...", "mode": 384}     -> {}
//   {"op": "stat", "path": "..."}                                  -> {"exists", "mode", "size", "uid"}
//   {"op": "mkdir", "path": "...", "mode": 493}                    -> {}       (with its parents)
//   {"op": "settime", "ns": N}                                     -> {}       (CLOCK_REALTIME)
//   {"op": "ping"}                                                 -> {"time_ns"} (the VM's CLOCK_REALTIME)
//   {"op": "exit"}                                                 -> {}       (the VM powers off)
//
// A failed request answers {"error": "..."}. Static and unsanitized, like vm_init: a test tool, not product
// code, and nothing here is reachable from outside the host (the forwarded port is bound to 127.0.0.1).
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxRequest = 64 << 20;
constexpr size_t kMaxOutput = 64 << 20;

void say(const std::string& line) {
  std::fprintf(stdout, "vm-server: %s\n", line.c_str());
  std::fflush(stdout);
}

std::string errnoText(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

struct Failure {
  std::string message;
};

// ---- NICs: qemu gives each a fixed MAC; the harness names them and gives them an address.

std::string readLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

bool ifreqCall(int fd, unsigned long request, ifreq& ifr, const std::string& what) {
  if (::ioctl(fd, request, &ifr) == 0) return true;
  say(errnoText(what));
  return false;
}

// MAC=NAME[=ADDRESS/PREFIX]
bool configureLink(const std::string& spec) {
  const size_t a = spec.find('=');
  if (a == std::string::npos) return false;
  const std::string mac = spec.substr(0, a);
  std::string name = spec.substr(a + 1), cidr;
  if (const size_t b = name.find('='); b != std::string::npos) {
    cidr = name.substr(b + 1);
    name = name.substr(0, b);
  }
  std::string current;
  for (unsigned i = 1; i < 64 && current.empty(); ++i) {
    char ifname[IF_NAMESIZE] = {};
    if (::if_indextoname(i, ifname) &&
        readLine(std::string("/sys/class/net/") + ifname + "/address") == mac) {
      current = ifname;
    }
  }
  if (current.empty()) {
    say("no NIC with MAC " + mac);
    return false;
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = true;
  ifreq ifr{};
  if (current != name) {
    std::strncpy(ifr.ifr_name, current.c_str(), IFNAMSIZ - 1);
    std::strncpy(ifr.ifr_newname, name.c_str(), IFNAMSIZ - 1);
    ok = ifreqCall(fd, SIOCSIFNAME, ifr, "rename " + current + " to " + name);
  }
  if (ok && !cidr.empty()) {
    const size_t slash = cidr.find('/');
    const std::string address = cidr.substr(0, slash);
    const int prefix = slash == std::string::npos ? 32 : std::atoi(cidr.c_str() + slash + 1);
    auto* sin = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
    ifr = ifreq{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    sin->sin_family = AF_INET;
    ok = ::inet_pton(AF_INET, address.c_str(), &sin->sin_addr) == 1 &&
         ifreqCall(fd, SIOCSIFADDR, ifr, "address " + cidr + " on " + name);
    if (ok) {
      sin->sin_addr.s_addr = prefix == 0 ? 0 : htonl(~uint32_t{0} << (32 - prefix));
      ok = ifreqCall(fd, SIOCSIFNETMASK, ifr, "netmask of " + name);
    }
  }
  if (ok) {
    ifr = ifreq{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ok = ifreqCall(fd, SIOCGIFFLAGS, ifr, "flags of " + name);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    ok = ok && ifreqCall(fd, SIOCSIFFLAGS, ifr, "up " + name);
  }
  ::close(fd);
  if (ok) say(mac + " is " + name + (cidr.empty() ? "" : " with " + cidr));
  return ok;
}

// ---- processes

// Statuses of spawned processes already reaped by a "wait".
std::mutex g_reaped_mutex;
std::map<pid_t, int> g_reaped;

int decodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::vector<char*> argvOf(std::vector<std::string>& args) {
  std::vector<char*> out;
  for (auto& a : args) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

// posix_spawnp in a session of its own (so a timeout can end the whole group), with fds 0-2 given.
pid_t spawn(std::vector<std::string> args, int in, int out, int err) {
  if (args.empty()) throw Failure{"empty argv"};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in, 0);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  posix_spawn_file_actions_adddup2(&fa, err, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  auto argv = argvOf(args);
  const int rc = ::posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw Failure{"spawn " + args[0] + ": " + std::strerror(rc)};
  return pid;
}

json execute(const json& req) {
  auto args = req.at("argv").get<std::vector<std::string>>();
  const double timeout = req.value("timeout", 60.0);
  const std::string input = req.value("stdin", std::string());
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) throw Failure{errnoText("pipe")};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
    throw Failure{errnoText("pipe")};
  pid_t pid;
  try {
    pid = spawn(args, in_pipe[0], out_pipe[1], err_pipe[1]);
  } catch (...) {
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    throw;
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  // Small inputs only (keys, configs): a pipe holds 64 KiB.
  if (!input.empty()) (void)!::write(in_pipe[1], input.data(), std::min<size_t>(input.size(), 65536));
  ::close(in_pipe[1]);
  std::string out, err;
  bool timed_out = false;
  const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout * 1000));
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 && !timed_out) {
      timed_out = true;
      ::kill(-pid, SIGKILL);
    }
    const int n = ::poll(fds, 2, timed_out ? 1000 : static_cast<int>(std::min<int64_t>(left, 1000)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        std::string& sink = i == 0 ? out : err;
        if (sink.size() < kMaxOutput) sink.append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {{"rc", timed_out ? 124 : decodeStatus(status)}, {"stdout", out}, {"stderr", err}};
}

json spawnDetached(const json& req) {
  auto args = req.at("argv").get<std::vector<std::string>>();
  const std::string log = req.value("log", std::string("/dev/null"));
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (in < 0 || out < 0) {
    if (in >= 0) ::close(in);
    throw Failure{errnoText("open " + log)};
  }
  pid_t pid = -1;
  try {
    pid = spawn(args, in, out, out);
  } catch (...) {
    ::close(in);
    ::close(out);
    throw;
  }
  ::close(in);
  ::close(out);
  return {{"pid", pid}};
}

json waitFor(const json& req) {
  const pid_t pid = req.at("pid").get<pid_t>();
  const auto deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(req.value("timeout", 0.0) * 1000));
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(g_reaped_mutex);
      if (auto it = g_reaped.find(pid); it != g_reaped.end())
        return {{"exited", true}, {"status", it->second}};
      int status = 0;
      const pid_t got = ::waitpid(pid, &status, WNOHANG);
      if (got == pid) {
        g_reaped[pid] = decodeStatus(status);
        return {{"exited", true}, {"status", g_reaped[pid]}};
      }
      if (got < 0 && errno != EINTR) throw Failure{errnoText("waitpid " + std::to_string(pid))};
    }
    if (Clock::now() >= deadline) return {{"exited", false}};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

json readFile(const json& req) {
  const std::string path = req.at("path").get<std::string>();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Failure{errnoText(path)};
  struct stat st {};
  ::fstat(fd, &st);
  const auto offset = req.value("offset", int64_t{0});
  std::string data;
  if (offset < st.st_size) {
    data.resize(std::min<size_t>(static_cast<size_t>(st.st_size - offset), kMaxOutput));
    const ssize_t got = ::pread(fd, data.data(), data.size(), offset);
    data.resize(got > 0 ? static_cast<size_t>(got) : 0);
  }
  ::close(fd);
  return {{"data", data}, {"size", st.st_size}};
}

json writeFile(const json& req) {
  const std::string path = req.at("path").get<std::string>();
  const std::string data = req.at("data").get<std::string>();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, req.value("mode", 0644));
  if (fd < 0) throw Failure{errnoText(path)};
  const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ::close(fd);
  if (!ok) throw Failure{errnoText("write " + path)};
  return json::object();
}

json statFile(const json& req) {
  struct stat st {};
  if (::lstat(req.at("path").get<std::string>().c_str(), &st) != 0) return {{"exists", false}};
  return {{"exists", true}, {"mode", st.st_mode & 07777}, {"size", st.st_size}, {"uid", st.st_uid}};
}

json makeDirectory(const json& req) {
  const std::string path = req.at("path").get<std::string>();
  const auto mode = static_cast<mode_t>(req.value("mode", 0755));
  for (size_t at = path.find('/', 1);; at = path.find('/', at + 1)) {
    const std::string prefix = path.substr(0, at);
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) throw Failure{errnoText("mkdir " + prefix)};
    if (at == std::string::npos) return json::object();
  }
}

int64_t realtimeNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

json setTime(const json& req) {
  const auto ns = req.at("ns").get<int64_t>();
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  if (::clock_settime(CLOCK_REALTIME, &ts) != 0) throw Failure{errnoText("clock_settime")};
  return json::object();
}

std::atomic<bool> g_exit{false};

json handle(const json& req) {
  const std::string op = req.at("op").get<std::string>();
  if (op == "exec") return execute(req);
  if (op == "spawn") return spawnDetached(req);
  if (op == "signal") {
    const pid_t pid = req.at("pid").get<pid_t>();
    if (::kill(-pid, req.value("signal", SIGTERM)) != 0 && ::kill(pid, req.value("signal", SIGTERM)) != 0) {
      throw Failure{errnoText("kill " + std::to_string(pid))};
    }
    return json::object();
  }
  if (op == "wait") return waitFor(req);
  if (op == "read") return readFile(req);
  if (op == "write") return writeFile(req);
  if (op == "stat") return statFile(req);
  if (op == "mkdir") return makeDirectory(req);
  if (op == "settime") return setTime(req);
  if (op == "ping") return {{"time_ns", realtimeNs()}};
  if (op == "exit") {
    g_exit = true;
    return json::object();
  }
  throw Failure{"unknown op " + op};
}

bool sendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

void serve(int fd) {
  std::string request;
  char buf[65536];
  while (request.find('\n') == std::string::npos && request.size() < kMaxRequest) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    request.append(buf, static_cast<size_t>(n));
  }
  json reply;
  try {
    reply = handle(json::parse(request.substr(0, request.find('\n'))));
  } catch (const Failure& f) {
    reply = {{"error", f.message}};
  } catch (const std::exception& e) {
    reply = {{"error", std::string("bad request: ") + e.what()}};
  }
  sendAll(fd, reply.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 7000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else if (a == "--link" && i + 1 < argc) {
      if (!configureLink(argv[++i])) return 1;
    } else {
      std::fprintf(stderr, "usage: %s [--port N] [--link MAC=NAME[=ADDRESS/PREFIX]]...\n", argv[0]);
      return 2;
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 64) != 0) {
    say(errnoText("listen on port " + std::to_string(port)));
    return 1;
  }
  say("listening on port " + std::to_string(port));
  while (!g_exit) {
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::thread(serve, fd).detach();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the "exit" reply goes out
  say("exiting");
  return 0;
}

// SpawnRunner (see command_runner.h).
#include "ovs/command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.h"

namespace nwg::ovs {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxOut = 4 << 20;
constexpr size_t kMaxErr = 64 << 10;

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

Result<Pipe> makePipe() {
  int fds[2] = {-1, -1};
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::fromErrno(errno, "pipe");
  Pipe p;
  p.read_end.reset(fds[0]);
  p.write_end.reset(fds[1]);
  return p;
}

// Reads what is there; false at EOF or on an error.
bool drain(UniqueFd& fd, std::string& into, size_t max) {
  char buf[8192];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) {
    fd.reset();
    return false;
  }
  if (into.size() < max) into.append(buf, std::min(static_cast<size_t>(n), max - into.size()));
  return true;
}

}  // namespace

Result<CommandOutput> SpawnRunner::run(const std::vector<std::string>& argv,
                                       std::chrono::milliseconds timeout) {
  if (argv.empty() || argv[0].empty()) return Error("no program to run", EINVAL);
  const std::string& program = argv[0];
  NWG_ASSIGN_OR_RETURN(Pipe out, makePipe());
  NWG_ASSIGN_OR_RETURN(Pipe err, makePipe());
  std::vector<std::string> args = argv;
  std::vector<char*> c_argv;
  for (auto& a : args) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  std::string path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  if (int rc = posix_spawn_file_actions_init(&actions); rc != 0) {
    return Error::fromErrno(rc, "posix_spawn_file_actions_init");
  }
  if (int rc = posix_spawnattr_init(&attr); rc != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return Error::fromErrno(rc, "posix_spawnattr_init");
  }
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  int setup = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (setup == 0) setup = posix_spawn_file_actions_adddup2(&actions, out.write_end.get(), 1);
  if (setup == 0) setup = posix_spawn_file_actions_adddup2(&actions, err.write_end.get(), 2);
  if (setup == 0) setup = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (setup == 0) setup = posix_spawnattr_setsigdefault(&attr, &all);
  if (setup == 0) setup = posix_spawnattr_setsigmask(&attr, &none);
  if (setup == 0) setup = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = setup == 0 ? ::posix_spawn(&pid, program.c_str(), &actions, &attr, c_argv.data(), envp) : setup;
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  out.write_end.reset();
  err.write_end.reset();
  if (setup != 0) return Error::fromErrno(setup, str("preparing to run ", program));
  if (rc != 0) return Error::fromErrno(rc, str("cannot run ", program));

  CommandOutput result;
  const auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  while (out.read_end || err.read_end) {
    pollfd fds[2] = {{out.read_end ? out.read_end.get() : -1, POLLIN, 0},
                     {err.read_end ? err.read_end.get() : -1, POLLIN, 0}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (fds[0].revents) drain(out.read_end, result.out, kMaxOut);
    if (fds[1].revents) drain(err.read_end, result.err, kMaxErr);
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::fromErrno(errno, str("waiting for ", program));
  }
  if (timed_out) {
    return Error(str(program, " did not finish within ", timeout.count(), " ms; killed it"), ETIMEDOUT);
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace nwg::ovs

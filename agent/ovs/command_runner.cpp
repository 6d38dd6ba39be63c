// SpawnRunner (see command_runner.h).
#include "ovs/command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "base/spawn.h"
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
  SpawnSpec spec;
  spec.argv = argv;
  spec.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  spec.stdout_fd = out.write_end.get();
  spec.stderr_fd = err.write_end.get();
  auto spawned = spawnProcess(spec);
  out.write_end.reset();
  err.write_end.reset();
  NWG_ASSIGN_OR_RETURN(const pid_t pid, std::move(spawned));

  CommandOutput result;
  const auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  while (out.read_end || err.read_end) {
    pollfd fds[2] = {{out.read_end ? out.read_end.get() : -1, POLLIN, 0},
                     {err.read_end ? err.read_end.get() : -1, POLLIN, 0}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (n < 0 && errno != EINTR) {
      ::kill(pid, SIGKILL);  // nothing more can be read: the child must not outlive the call
      break;
    }
    if (n <= 0) continue;
    if (fds[0].revents) drain(out.read_end, result.out, kMaxOut);
    if (fds[1].revents) drain(err.read_end, result.err, kMaxErr);
  }
  // Its output closed, the child may still run (it closed both and went on): it gets what is left of
  // the deadline to exit, like the output had, and is killed then.
  int status = 0;
  while (true) {
    const pid_t w = ::waitpid(pid, &status, timed_out ? 0 : WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) return Error::fromErrno(errno, str("waiting for ", program));
    if (w == 0 && Clock::now() >= deadline) {
      timed_out = true;
      ::kill(pid, SIGKILL);
    } else if (w == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  if (timed_out) {
    return Error(str(program, " did not finish within ", timeout.count(), " ms; killed it"), ETIMEDOUT);
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace nwg::ovs

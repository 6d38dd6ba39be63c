// PythonPeer: fork/exec with pipes, line reads with a timeout, stop by pid.
#include "python_peer.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace nwg::rpc::interop {

std::string PythonPeer::script() {
  return std::string(NWG_RPC_INTEROP_DIR) + "/oslo_peer.py";
}

Result<std::unique_ptr<PythonPeer>> PythonPeer::spawn(const std::vector<std::string>& args) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Error::fromErrno(errno, "pipe");
  if (::pipe2(out, O_CLOEXEC) != 0) return Error::fromErrno(errno, "pipe");
  std::vector<std::string> argv_s{"/usr/bin/python3", script()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return Error::fromErrno(errno, "fork");
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so stop() never races the child's own call
  ::close(in[0]);
  ::close(out[1]);
  std::unique_ptr<PythonPeer> peer(new PythonPeer());
  peer->pid_ = pid;
  peer->stdin_fd_ = in[1];
  peer->stdout_fd_ = out[0];
  return peer;
}

Result<std::string> PythonPeer::readLine(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return fail("oslo peer ", pid_, ": no output line within ", timeout.count(), " ms");
    pollfd p{stdout_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[65536];
    const ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n == 0) return fail("oslo peer ", pid_, " exited without printing a line");
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno(errno, "reading from the oslo peer");
    }
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

void PythonPeer::stop() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
  if (pid_ > 0) {
    int status = 0;
    bool exited = false;
    for (int i = 0; i < 50 && !exited; ++i) {
      exited = ::waitpid(pid_, &status, WNOHANG) == pid_;
      if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!exited) {
      ::kill(-pid_, SIGKILL);  // our own child's process group
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdout_fd_ = -1;
}

PythonPeer::~PythonPeer() {
  stop();
}

Result<nlohmann::json> PythonPeer::run(const std::vector<std::string>& args,
                                       std::chrono::milliseconds timeout) {
  NWG_ASSIGN_OR_RETURN(auto peer, spawn(args));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    NWG_ASSIGN_OR_RETURN(std::string line, peer->readLine(std::max(left, std::chrono::milliseconds(1))));
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
      peer->stop();
      return j;
    }
  }
}

}  // namespace nwg::rpc::interop

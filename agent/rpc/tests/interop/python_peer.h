// Runs the oslo.messaging peer script (oslo_peer.py) under Debian's /usr/bin/python3, in its own process
// group, for the interop tests and the benchmark. A peer is stopped by its own pid / process group only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"

namespace nwg::rpc::interop {

class PythonPeer {
 public:
  // Starts `oslo_peer.py args...`; its stdin stays open until stop() (the server mode serves until then).
  static Result<std::unique_ptr<PythonPeer>> spawn(const std::vector<std::string>& args);
  // Runs a peer to completion and returns the JSON object it printed last.
  static Result<nlohmann::json> run(const std::vector<std::string>& args, std::chrono::milliseconds timeout);

  ~PythonPeer();
  PythonPeer(const PythonPeer&) = delete;
  PythonPeer& operator=(const PythonPeer&) = delete;

  // The next line the peer prints (without '\n'), waiting at most `timeout`.
  Result<std::string> readLine(std::chrono::milliseconds timeout);
  // Closes its stdin, waits up to 5 s for it to exit, then kills its process group.
  void stop();
  pid_t pid() const { return pid_; }

  static std::string script();

 private:
  PythonPeer() = default;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
};

}  // namespace nwg::rpc::interop

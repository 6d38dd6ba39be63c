// Runs an external program (argv, never a shell) and collects what it printed: the seam between the
// OVS bridge and the host, so that ovs-vsctl's argv and output are unit-tested without it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"

namespace nwg::ovs {

struct CommandOutput {
  int exit_code = 0;  // the program's exit status (128 + signal when it was killed)
  std::string out;    // stdout, at most 4 MiB
  std::string err;    // stderr, at most 64 KiB
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Fails when the program cannot be started (ENOENT when it does not exist) or does not finish
  // within `timeout` (ETIMEDOUT; it is then killed). A non-zero exit is a result, not a failure.
  virtual Result<CommandOutput> run(const std::vector<std::string>& argv,
                                    std::chrono::milliseconds timeout) = 0;
};

// posix_spawn: stdin /dev/null, stdout and stderr captured, a clean environment (PATH only), no
// descriptor of the agent's inherited.
class SpawnRunner final : public CommandRunner {
 public:
  Result<CommandOutput> run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override;
};

}  // namespace nwg::ovs

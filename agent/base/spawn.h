// Starting a helper program (wireguard-go, ovs-vsctl): posix_spawn with every step of the set-up
// checked, so that a child started without its /dev/null stdin, its output or its signal state is
// an error here rather than a misbehaviour found much later.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"

namespace nwg {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0]: the program's path (no PATH search)
  std::vector<std::string> env;   // the whole environment: nothing of the agent's leaks in
  int stdout_fd = -1;             // the child's stdout: this descriptor, or else
  std::string stdout_path;        // this file, appended to (created 0640, never through a symlink)
  int stderr_fd = -1;             // the child's stderr: this descriptor; -1: wherever stdout goes
  bool new_session = false;       // signals to the agent's process group must not reach it
};

// The child has stdin from /dev/null, no other descriptor of ours, "/" as its working directory (it
// must not pin the agent's), default signal dispositions and an empty signal mask.
Result<pid_t> spawnProcess(const SpawnSpec& spec);

}  // namespace nwg

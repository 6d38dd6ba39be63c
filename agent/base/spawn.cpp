#include "base/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include "base/strings.h"

namespace nwg {

Result<pid_t> spawnProcess(const SpawnSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return Error("no program to run", EINVAL);
  const std::string& program = spec.argv[0];
  std::vector<std::string> args = spec.argv;
  std::vector<std::string> env = spec.env;
  std::vector<char*> c_argv;
  for (auto& a : args) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

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
  if (setup == 0) {
    setup = spec.stdout_fd >= 0
                ? posix_spawn_file_actions_adddup2(&actions, spec.stdout_fd, 1)
                : posix_spawn_file_actions_addopen(&actions, 1, spec.stdout_path.c_str(),
                                                   O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0640);
  }
  if (setup == 0)
    setup = posix_spawn_file_actions_adddup2(&actions, spec.stderr_fd >= 0 ? spec.stderr_fd : 1, 2);
  if (setup == 0) setup = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (setup == 0) setup = posix_spawn_file_actions_addchdir_np(&actions, "/");
  if (setup == 0) setup = posix_spawnattr_setsigdefault(&attr, &all);
  if (setup == 0) setup = posix_spawnattr_setsigmask(&attr, &none);
  if (setup == 0) {
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    if (spec.new_session) flags |= POSIX_SPAWN_SETSID;
    setup = posix_spawnattr_setflags(&attr, flags);
  }
  pid_t pid = -1;
  int rc =
      setup == 0 ? ::posix_spawn(&pid, program.c_str(), &actions, &attr, c_argv.data(), envp.data()) : setup;
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (setup != 0) return Error::fromErrno(setup, str("preparing to run ", program));
  if (rc != 0) return Error::fromErrno(rc, str("cannot run ", program));
  return pid;
}

}  // namespace nwg

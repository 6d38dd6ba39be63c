#include "daemon/process_hardening.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace nwg::daemon {
namespace {

// In a child, so that the test process keeps its own limits: the child reports what it sees.
TEST(ProcessHardening, NoCoreDumpsAndNotDumpable) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int report[3] = {-1, -1, -1};
    if (hardenProcess().ok()) {
      rlimit core{};
      ::getrlimit(RLIMIT_CORE, &core);
      report[0] = static_cast<int>(core.rlim_cur);
      report[1] = static_cast<int>(core.rlim_max);
      report[2] = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    }
    (void)::write(pipe_fds[1], report, sizeof report);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  int report[3] = {};
  ASSERT_EQ(::read(pipe_fds[0], report, sizeof report), static_cast<ssize_t>(sizeof report));
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(report[0], 0);  // RLIMIT_CORE soft
  EXPECT_EQ(report[1], 0);  // ... and hard: the process cannot raise it again
  EXPECT_EQ(report[2], 0);  // not dumpable
}

}  // namespace
}  // namespace nwg::daemon

// PID 1 of the kernel test VM (scripts/kernel-vm): mounts the pseudo file systems, loads the modules
// listed in /modules/order, runs the test command from /vmtest/argv and /vmtest/env, reports its exit
// status on the second serial port and powers the VM off. Static and dependency-free by design.
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace {

void say(const std::string& line) {
  std::fprintf(stdout, "vm-init: %s\n", line.c_str());
  std::fflush(stdout);
}

void mountOrSay(const char* source, const char* target, const char* type) {
  ::mkdir(target, 0755);
  if (::mount(source, target, type, 0, nullptr) != 0 && errno != EBUSY) {
    say(std::string("mount ") + target + ": " + std::strerror(errno));
  }
}

std::string readFile(const std::string& path) {
  std::string data;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return data;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return data;
}

// NUL-separated fields, as the harness writes them.
std::vector<std::string> fields(const std::string& data) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : data) {
    if (c == '\0') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

void loadModules() {
  std::istringstream order(readFile("/modules/order"));
  std::string name;
  while (std::getline(order, name)) {
    if (name.empty()) continue;
    const std::string path = "/modules/" + name;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      say("open " + path + ": " + std::strerror(errno));
      continue;
    }
    if (::syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST) {
      say("load " + name + ": " + std::strerror(errno));
    }
    ::close(fd);
  }
}

void loopbackUp() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) say(std::string("lo up: ") + std::strerror(errno));
  }
  ::close(fd);
}

int runTest() {
  std::vector<std::string> argv = fields(readFile("/vmtest/argv"));
  std::vector<std::string> env = fields(readFile("/vmtest/env"));
  if (argv.empty()) {
    say("no /vmtest/argv");
    return 125;
  }
  ::mkdir("/vmtest/out", 0755);
  const pid_t child = ::fork();
  if (child < 0) return 125;
  if (child == 0) {
    std::vector<char*> args, envs;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    for (auto& e : env) envs.push_back(e.data());
    envs.push_back(nullptr);
    if (::chdir("/vmtest/out") != 0) _exit(126);
    ::execve(args[0], args.data(), envs.data());
    std::fprintf(stderr, "vm-init: exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  // As PID 1 we also reap orphans; only the test's own status counts.
  for (;;) {
    int status = 0;
    const pid_t pid = ::wait(&status);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) return 125;
    if (pid != child) continue;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  }
}

}  // namespace

int main() {
  mountOrSay("proc", "/proc", "proc");
  mountOrSay("sysfs", "/sys", "sysfs");
  mountOrSay("devtmpfs", "/dev", "devtmpfs");
  mountOrSay("tmpfs", "/run", "tmpfs");
  mountOrSay("tmpfs", "/tmp", "tmpfs");
  loadModules();
  loopbackUp();
  say("running the test");
  const int rc = runTest();
  const std::string line = "VMTEST_EXIT=" + std::to_string(rc) + "\n";
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
  int port = ::open("/dev/ttyS1", O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (port >= 0) {
    (void)!::write(port, line.data(), line.size());
    ::fsync(port);
    ::close(port);
  }
  ::sync();
  ::reboot(RB_POWER_OFF);
  return 0;
}

// iproute2-compatible named network namespaces (see linux_namespaces.h).
#include "netns/linux_namespaces.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "netns/namespace_name.h"

namespace nwg {

namespace {

constexpr long kNsfsMagic = 0x6e736673;  // NSFS_MAGIC: the file is a bind-mounted namespace

bool isNamespaceMount(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == kNsfsMagic;
}

std::string nsContext(const std::string& name) {
  return str("namespace ", name);
}

Status writeAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno(errno, "write");
    }
    done += static_cast<size_t>(n);
  }
  return okStatus();
}

Status withContext(Status status, std::string_view prefix) {
  if (status.ok()) return status;
  return std::move(status).error().context(prefix);
}

}  // namespace

Status LinuxNamespaces::runIn(const std::string& netns, const std::function<Status()>& fn) const {
  if (netns.empty()) return fn();
  NWG_RETURN_IF_ERROR(validateNamespaceName(netns));
  NWG_ASSIGN_OR_RETURN(UniqueFd ns_fd, openNamespace(netns));
  Status result;
  // A fresh thread per call: it never has to find its way back, so no thread is ever left behind
  // in the wrong namespace, and the caller's thread never moves.
  std::thread worker([&] {
    if (::setns(ns_fd.get(), CLONE_NEWNET) != 0) {
      result = Error::fromErrno(errno, str(nsContext(netns), ": setns"));
      return;
    }
    result = fn();
  });
  worker.join();
  return result;
}

Result<UniqueFd> LinuxNamespaces::openNamespace(const std::string& netns) const {
  std::string path = "/proc/self/ns/net";  // the thread group leader's: the agent's own namespace
  if (!netns.empty()) {
    NWG_RETURN_IF_ERROR(validateNamespaceName(netns));
    path = pathOf(netns);
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Error::fromErrno(err, netns.empty() ? "own namespace" : nsContext(netns));
  }
  return UniqueFd(fd);
}

Result<UniqueFd> LinuxNamespaces::openSocket(const std::string& netns, int domain, int type,
                                             int protocol) const {
  UniqueFd socket_fd;
  NWG_RETURN_IF_ERROR(runIn(netns, [&]() -> Status {
    int fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
    if (fd < 0) return Error::fromErrno(errno, str(nsContext(netns.empty() ? "(own)" : netns), ": socket"));
    socket_fd.reset(fd);
    return okStatus();
  }));
  return socket_fd;
}

Result<std::vector<std::string>> LinuxNamespaces::list() {
  std::vector<std::string> names;
  DIR* dir = ::opendir(run_dir_.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return names;
    return Error::fromErrno(errno, str("namespaces: ", run_dir_));
  }
  while (const dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.push_back(std::move(name));
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

Result<bool> LinuxNamespaces::exists(const std::string& name) {
  NWG_RETURN_IF_ERROR(validateNamespaceName(name));
  return isNamespaceMount(pathOf(name));
}

Status LinuxNamespaces::prepareRunDir() const {
  if (::mkdir(run_dir_.c_str(), 0755) != 0 && errno != EEXIST) {
    return Error::fromErrno(errno, str("namespaces: mkdir ", run_dir_));
  }
  // As iproute2 does: make the directory a shared mount, so a namespace mounted here later also
  // appears in mount namespaces made by `ip netns exec` (and theirs in ours). The first time, the
  // directory must become a mount point by binding it onto itself.
  if (::mount("", run_dir_.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) return okStatus();
  if (errno != EINVAL) return Error::fromErrno(errno, str("namespaces: make ", run_dir_, " shared"));
  if (::mount(run_dir_.c_str(), run_dir_.c_str(), "none", MS_BIND | MS_REC, nullptr) != 0) {
    return Error::fromErrno(errno, str("namespaces: bind ", run_dir_));
  }
  if (::mount("", run_dir_.c_str(), "none", MS_SHARED | MS_REC, nullptr) != 0) {
    return Error::fromErrno(errno, str("namespaces: make ", run_dir_, " shared"));
  }
  return okStatus();
}

Status LinuxNamespaces::create(const std::string& name) {
  NWG_RETURN_IF_ERROR(validateNamespaceName(name));
  const std::string path = pathOf(name);
  if (isNamespaceMount(path)) return okStatus();
  NWG_RETURN_IF_ERROR(withContext(prepareRunDir(), nsContext(name)));
  // The mount point: a plain empty file. One left over by an interrupted create is reused.
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0);
  if (fd < 0) return Error::fromErrno(errno, str(nsContext(name), ": create ", path));
  ::close(fd);
  Status result;
  std::thread worker([&] {
    // unshare() gives only this thread a new namespace; the bind mount keeps it alive after the
    // thread ends.
    if (::unshare(CLONE_NEWNET) != 0) {
      result = Error::fromErrno(errno, str(nsContext(name), ": unshare"));
      return;
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
      result = Error::fromErrno(errno, str(nsContext(name), ": bind mount on ", path));
    }
  });
  worker.join();
  if (!result.ok()) {
    if (!isNamespaceMount(path)) ::unlink(path.c_str());
    return result;
  }
  return okStatus();
}

Status LinuxNamespaces::remove(const std::string& name) {
  NWG_RETURN_IF_ERROR(validateNamespaceName(name));
  const std::string path = pathOf(name);
  // Lazy unmount: processes still inside keep the namespace alive; the name is gone at once.
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return Error::fromErrno(errno, str(nsContext(name), ": unmount ", path));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error::fromErrno(errno, str(nsContext(name), ": unlink ", path));
  }
  return okStatus();
}

Status LinuxNamespaces::setSysctl(const std::string& netns, const std::string& key,
                                  const std::string& value) {
  NWG_RETURN_IF_ERROR(validateSysctlKey(key));
  const std::string where = str(nsContext(netns.empty() ? "(own)" : netns), ": sysctl ", key);
  return runIn(netns, [&]() -> Status {
    // /proc/sys/net files belong to the namespace of the thread that opens them.
    const std::string path = "/proc/sys/" + key;
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Error::fromErrno(errno, where);
    UniqueFd file(fd);
    return withContext(writeAll(file.get(), value + "\n"), where);
  });
}

Result<std::string> LinuxNamespaces::sysctl(const std::string& netns, const std::string& key) {
  NWG_RETURN_IF_ERROR(validateSysctlKey(key));
  const std::string where = str(nsContext(netns.empty() ? "(own)" : netns), ": sysctl ", key);
  std::string value;
  NWG_RETURN_IF_ERROR(runIn(netns, [&]() -> Status {
    const std::string path = "/proc/sys/" + key;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error::fromErrno(errno, where);
    UniqueFd file(fd);
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(file.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::fromErrno(errno, where);
      }
      if (n == 0) break;
      value.append(buf, static_cast<size_t>(n));
      if (value.size() > 65536) return fail(where, ": value too long");
    }
    return okStatus();
  }));
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  return value;
}

}  // namespace nwg

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
#include <map>
#include <system_error>
#include <thread>

#include "netns/namespace_cache.h"
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

Status withContext(Status status, std::string_view prefix) {
  if (status.ok()) return status;
  return std::move(status).error().context(prefix);
}

// Runs `body` on a fresh thread and returns its Status. The thread's barrier: an exception thrown
// there becomes an error of this call (it would otherwise end the process), and a thread that cannot
// be created is an error too.
Status onFreshThread(const std::string& netns, const std::function<Status()>& body) {
  Status result;
  try {
    std::thread worker([&] {
      try {
        result = body();
      } catch (const std::exception& e) {
        result = fail(nsContext(netns), ": ", e.what());
      } catch (...) {
        result = fail(nsContext(netns), ": unknown exception");
      }
    });
    worker.join();
  } catch (const std::system_error& e) {
    return Error(str(nsContext(netns), ": cannot start a thread (", e.what(), ")"), e.code().value());
  }
  return result;
}

// Runs `fn` on a fresh thread that joined namespace `ns_fd`: it never has to find its way back, so
// no thread is ever left behind in the wrong namespace, and the caller's thread never moves.
Status runOnThreadIn(int ns_fd, const std::string& netns, const std::function<Status()>& fn) {
  return onFreshThread(netns, [&]() -> Status {
    if (::setns(ns_fd, CLONE_NEWNET) != 0) return Error::fromErrno(errno, str(nsContext(netns), ": setns"));
    return fn();
  });
}

std::string sysctlContext(const std::string& netns, const std::string& key) {
  return str(nsContext(netns.empty() ? "(own)" : netns), ": sysctl ", key);
}

// Reads a sysctl's value with pread from 0, so the same open file serves every call.
Result<std::string> readValue(int fd, const std::string& netns, const std::string& key) {
  std::string value;
  char buf[4096];
  for (off_t at = 0;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno(errno, sysctlContext(netns, key));
    }
    if (n == 0) break;
    value.append(buf, static_cast<size_t>(n));
    // A /proc/sys handler fills the whole request while it has data: a short read is the end.
    if (static_cast<size_t>(n) < sizeof buf) break;
    at += n;
    if (value.size() > 65536) return fail(sysctlContext(netns, key), ": value too long");
  }
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  return value;
}

// A sysctl takes its whole value in one write at offset 0 (a later offset would parse a fragment).
Status writeValue(int fd, const std::string& value, const std::string& netns, const std::string& key) {
  const std::string line = value + "\n";
  ssize_t n;
  do {
    n = ::pwrite(fd, line.data(), line.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::fromErrno(errno, sysctlContext(netns, key));
  if (static_cast<size_t>(n) != line.size()) return fail(sysctlContext(netns, key), ": short write");
  return okStatus();
}

}  // namespace

// The /proc/sys files of one namespace, opened inside it as they are first needed. /proc/sys files
// belong to the namespace of the thread that opens them, and an open file does not keep its
// namespace alive: `ns` does, so the namespace's identity (see NamespaceCache) stays unique.
struct LinuxNamespaces::SysctlFiles {
  static constexpr size_t kMaxFiles = 64;  // a handful of keys are used; this only bounds misuse
  LinuxNamespaces::Pinned ns;
  std::map<std::string, UniqueFd> readers;
  std::map<std::string, UniqueFd> writers;
  bool broken = false;  // an I/O error on an open file: reopen everything

  Result<int> file(const LinuxNamespaces& namespaces, const std::string& key, bool write) {
    auto& files = write ? writers : readers;
    if (auto it = files.find(key); it != files.end()) return it->second.get();
    if (readers.size() + writers.size() >= kMaxFiles) {
      readers.clear();
      writers.clear();
    }
    UniqueFd opened;
    NWG_RETURN_IF_ERROR(namespaces.runIn(ns, [&]() -> Status {
      const std::string path = "/proc/sys/" + key;
      int fd = ::open(path.c_str(), (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
      if (fd < 0) return Error::fromErrno(errno, sysctlContext(ns.name, key));
      opened.reset(fd);
      return okStatus();
    }));
    return files.emplace(key, std::move(opened)).first->second.get();
  }
};

LinuxNamespaces::LinuxNamespaces(std::string run_dir) : run_dir_(std::move(run_dir)) {
  sysctl_files_ = std::make_unique<NamespaceCache<SysctlFiles>>(
      *this,
      [](Pinned& ns) -> Result<SysctlFiles> {
        SysctlFiles files;
        files.ns = std::move(ns);
        return files;
      },
      [](const SysctlFiles& files) { return files.broken; });
}

LinuxNamespaces::~LinuxNamespaces() = default;

void LinuxNamespaces::attach(Holder* holder) const {
  std::lock_guard lock(holders_mutex_);
  holders_.push_back(holder);
}

void LinuxNamespaces::detach(Holder* holder) const {
  std::lock_guard lock(holders_mutex_);
  holders_.erase(std::remove(holders_.begin(), holders_.end(), holder), holders_.end());
}

Status LinuxNamespaces::runIn(const std::string& netns, const std::function<Status()>& fn) const {
  if (netns.empty()) return fn();
  NWG_RETURN_IF_ERROR(validateNamespaceName(netns));
  NWG_ASSIGN_OR_RETURN(UniqueFd ns_fd, openNamespace(netns));
  return runOnThreadIn(ns_fd.get(), netns, fn);
}

Status LinuxNamespaces::runIn(const Pinned& ns, const std::function<Status()>& fn) const {
  if (ns.name.empty()) return fn();
  return runOnThreadIn(ns.fd.get(), ns.name, fn);
}

Result<LinuxNamespaces::Pinned> LinuxNamespaces::pin(const std::string& netns) const {
  Pinned pinned;
  pinned.name = netns;
  NWG_ASSIGN_OR_RETURN(pinned.fd, openNamespace(netns));
  struct statfs fs {};
  if (::fstatfs(pinned.fd.get(), &fs) != 0) {
    return Error::fromErrno(errno, netns.empty() ? "own namespace" : nsContext(netns));
  }
  if (fs.f_type != kNsfsMagic) {
    // What an interrupted create() leaves: the mount point without a namespace on it.
    return Error(str(nsContext(netns), ": ", pathOf(netns), " is not a mounted network namespace"), ENOENT);
  }
  struct stat st {};
  if (::fstat(pinned.fd.get(), &st) != 0) {
    return Error::fromErrno(errno, netns.empty() ? "own namespace" : nsContext(netns));
  }
  pinned.id = Identity{st.st_dev, st.st_ino};
  return pinned;
}

Result<LinuxNamespaces::Identity> LinuxNamespaces::identityOf(const std::string& netns) const {
  const std::string path = netns.empty() ? "/proc/self/ns/net" : pathOf(netns);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error::fromErrno(errno, netns.empty() ? "own namespace" : nsContext(netns));
  }
  return Identity{st.st_dev, st.st_ino};
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

Result<UniqueFd> LinuxNamespaces::openSocket(const Pinned& ns, int domain, int type, int protocol) const {
  UniqueFd socket_fd;
  NWG_RETURN_IF_ERROR(runIn(ns, [&]() -> Status {
    int fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
    if (fd < 0)
      return Error::fromErrno(errno, str(nsContext(ns.name.empty() ? "(own)" : ns.name), ": socket"));
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
  std::lock_guard lock(holders_mutex_);
  for (Holder* holder : holders_) holder->releaseAllBut(names);
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
  if (UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0)); !fd) {
    return Error::fromErrno(errno, str(nsContext(name), ": create ", path));
  }
  Status result = onFreshThread(name, [&]() -> Status {
    // unshare() gives only this thread a new namespace; the bind mount keeps it alive after the
    // thread ends.
    if (::unshare(CLONE_NEWNET) != 0) return Error::fromErrno(errno, str(nsContext(name), ": unshare"));
    if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
      return Error::fromErrno(errno, str(nsContext(name), ": bind mount on ", path));
    }
    return okStatus();
  });
  if (!result.ok()) {
    if (!isNamespaceMount(path)) ::unlink(path.c_str());
    return result;
  }
  return okStatus();
}

Status LinuxNamespaces::remove(const std::string& name) {
  NWG_RETURN_IF_ERROR(validateNamespaceName(name));
  {
    // Our own sockets and files in it would keep the namespace, and the links in it, alive.
    std::lock_guard lock(holders_mutex_);
    for (Holder* holder : holders_) holder->release(name);
  }
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
  if (!netns.empty()) NWG_RETURN_IF_ERROR(validateNamespaceName(netns));
  // Retried once on a fresh file after an I/O error: writing a value twice is harmless.
  return sysctl_files_->with(netns, [&](SysctlFiles& files) -> Status {
    NWG_ASSIGN_OR_RETURN(int fd, files.file(*this, key, /*write=*/true));
    Status s = writeValue(fd, value, netns, key);
    // The kernel refusing the value (EINVAL, ERANGE) leaves the file usable; other errors reopen it.
    if (!s.ok() && s.error().code != EINVAL && s.error().code != ERANGE) files.broken = true;
    return s;
  });
}

Result<std::string> LinuxNamespaces::sysctl(const std::string& netns, const std::string& key) {
  NWG_RETURN_IF_ERROR(validateSysctlKey(key));
  if (!netns.empty()) NWG_RETURN_IF_ERROR(validateNamespaceName(netns));
  return sysctl_files_->with(netns, [&](SysctlFiles& files) -> Result<std::string> {
    NWG_ASSIGN_OR_RETURN(int fd, files.file(*this, key, /*write=*/false));
    auto value = readValue(fd, netns, key);
    if (!value.ok()) files.broken = true;
    return value;
  });
}

}  // namespace nwg

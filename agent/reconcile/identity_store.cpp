#include "reconcile/identity_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include "base/strings.h"

namespace nwg::reconcile {

namespace {

constexpr std::string_view kSuffix = ".conf";

bool validPortId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) return false;
  }
  return true;
}

// Reads a whole small file; refuses anything that is not a regular file of sane size.
Result<std::string> readSmallFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Error::fromErrno(errno, str("open ", path));
  std::unique_ptr<int, void (*)(int*)> guard(&fd, [](int* f) { ::close(*f); });
  struct stat st {};
  if (fstat(fd, &st) != 0) return Error::fromErrno(errno, str("stat ", path));
  if (!S_ISREG(st.st_mode) || st.st_size > 4096) return fail(path, " is not a small regular file");
  if ((st.st_mode & 077) != 0 && fchmod(fd, 0600) != 0) {
    return Error::fromErrno(errno, str("chmod 0600 ", path));
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::fromErrno(n < 0 ? errno : EIO, str("read ", path));
    got += static_cast<size_t>(n);
  }
  return text;
}

Status writeAll(int fd, std::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::fromErrno(errno, str("write ", path));
    done += static_cast<size_t>(n);
  }
  return okStatus();
}

Status fsyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::fromErrno(errno, str("open ", dir));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Error::fromErrno(err, str("fsync ", dir));
  return okStatus();
}

}  // namespace

std::string formatIdentityFile(const std::string& port_id, const HubIdentity& identity) {
  return str("# neutron-wireguard-agent: identity of hub port ", port_id, ".\n",
             "# Do not edit: the agent restores this key and port after every restart.\n",
             "# Public key: wg pubkey < <(sed -n 's/^PrivateKey = //p' THIS_FILE)\n",
             "[Interface]\n",
             "PrivateKey = ", identity.private_key.toBase64(), "\n",
             "ListenPort = ", identity.listen_port, "\n");
}

Result<HubIdentity> parseIdentityFile(std::string_view text) {
  bool in_interface = false;
  std::optional<Key> key;
  std::optional<uint16_t> port;
  int line_no = 0;
  for (std::string_view raw : split(text, '\n')) {
    ++line_no;
    std::string_view line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    if (line == "[Interface]") {
      in_interface = true;
      continue;
    }
    if (line[0] == '[') return fail("line ", line_no, ": unexpected section ", line);
    if (!in_interface) return fail("line ", line_no, ": setting outside [Interface]");
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return fail("line ", line_no, ": expected 'Name = value'");
    std::string_view name = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (name == "PrivateKey") {
      auto k = Key::fromBase64(value);
      if (!k) return fail("line ", line_no, ": PrivateKey is not a valid key");  // never echo the text
      key = *k;
    } else if (name == "ListenPort") {
      unsigned p = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), p);
      if (ec != std::errc() || end != value.data() + value.size() || p < 1 || p > 65535) {
        return fail("line ", line_no, ": ListenPort '", value, "' is not a port (1-65535)");
      }
      port = static_cast<uint16_t>(p);
    } else {
      return fail("line ", line_no, ": unknown setting ", name);
    }
  }
  if (!key) return fail("no PrivateKey");
  if (!port) return fail("no ListenPort");
  return HubIdentity{*key, *port};
}

std::optional<uint16_t> allocateListenPort(uint16_t first, uint16_t last, const std::set<uint16_t>& taken) {
  for (uint32_t p = first; p <= last; ++p) {
    if (!taken.count(static_cast<uint16_t>(p))) return static_cast<uint16_t>(p);
  }
  return std::nullopt;
}

std::string IdentityStore::pathOf(const std::string& port_id) const {
  return str(dir_, "/", port_id, kSuffix);
}

Status IdentityStore::load() {
  identities_.clear();
  unreadable_.clear();
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error::fromErrno(errno, str("create state directory ", dir_));
  }
  struct stat st {};
  if (::stat(dir_.c_str(), &st) != 0) return Error::fromErrno(errno, str("stat ", dir_));
  if (!S_ISDIR(st.st_mode)) return fail("state path ", dir_, " is not a directory");
  if ((st.st_mode & 077) != 0 && ::chmod(dir_.c_str(), 0700) != 0) {
    return Error::fromErrno(errno, str("chmod 0700 ", dir_));
  }
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return Error::fromErrno(errno, str("open state directory ", dir_));
  std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) continue;
    std::string port_id(name.substr(0, name.size() - kSuffix.size()));
    if (!validPortId(port_id)) continue;
    auto text = readSmallFile(pathOf(port_id));
    if (!text) {
      unreadable_[port_id] = text.error().message;
      continue;
    }
    auto identity = parseIdentityFile(*text);
    if (!identity) {
      unreadable_[port_id] = str(pathOf(port_id), ": ", identity.error().message);
      continue;
    }
    identities_[port_id] = *identity;
  }
  return okStatus();
}

std::optional<HubIdentity> IdentityStore::find(const std::string& port_id) const {
  auto it = identities_.find(port_id);
  if (it == identities_.end()) return std::nullopt;
  return it->second;
}

Status IdentityStore::put(const std::string& port_id, const HubIdentity& identity) {
  if (!validPortId(port_id)) return fail("invalid port ID '", port_id, "' for a state file");
  const std::string path = pathOf(port_id);
  const std::string tmp = str(path, ".tmp");
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error::fromErrno(errno, str("create ", tmp));
  std::string text = formatIdentityFile(port_id, identity);
  Status written = fchmod(fd, 0600) == 0 ? writeAll(fd, text, tmp) : Error::fromErrno(errno, "fchmod");
  std::fill(text.begin(), text.end(), '\0');
  if (written.ok() && ::fsync(fd) != 0) written = Error::fromErrno(errno, str("fsync ", tmp));
  ::close(fd);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Error::fromErrno(err, str("rename ", tmp, " to ", path));
  }
  NWG_RETURN_IF_ERROR(fsyncDirectory(dir_));
  identities_[port_id] = identity;
  unreadable_.erase(port_id);
  return okStatus();
}

Status IdentityStore::remove(const std::string& port_id) {
  if (!validPortId(port_id)) return fail("invalid port ID '", port_id, "' for a state file");
  if (::unlink(pathOf(port_id).c_str()) != 0 && errno != ENOENT) {
    return Error::fromErrno(errno, str("remove ", pathOf(port_id)));
  }
  identities_.erase(port_id);
  unreadable_.erase(port_id);
  return okStatus();
}

std::set<uint16_t> IdentityStore::usedPorts() const {
  std::set<uint16_t> ports;
  for (const auto& [id, identity] : identities_) ports.insert(identity.listen_port);
  return ports;
}

}  // namespace nwg::reconcile

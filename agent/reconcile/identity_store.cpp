#include "reconcile/identity_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>

#include "base/secret.h"
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

constexpr std::string_view kTmpSuffix = ".conf.tmp";

std::string modeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Reads a whole small file relative to the state directory, refusing anything but a regular file of
// sane size owned by the agent and closed to group and others. The text holds a private key.
Result<SecretString> readKeyFile(int dir_fd, const std::string& name, const std::string& path) {
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd) {
    if (errno == ELOOP) return fail(path, " is a symbolic link: refused (a key file must be a plain file)");
    return Error::fromErrno(errno, str("open ", path));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::fromErrno(errno, str("stat ", path));
  if (!S_ISREG(st.st_mode) || st.st_size > 4096) return fail(path, " is not a small regular file: refused");
  if (st.st_uid != ::geteuid()) {
    return fail(path, " is owned by uid ", st.st_uid, ", not by the agent (uid ", ::geteuid(),
                "): refused, never adopted (someone else may have written this key)");
  }
  if ((st.st_mode & 077) != 0) {
    return fail(path, " has mode ", modeText(st.st_mode),
                ": refused, never adopted (group or others may have read or written this key); if it "
                "is the right key, chmod 0600 it");
  }
  SecretString text(std::string(static_cast<size_t>(st.st_size), '\0'));
  std::string& buf = text.mutableText();
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::read(fd.get(), buf.data() + got, buf.size() - got);
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

}  // namespace

std::string formatIdentityFile(const std::string& port_id, const HubIdentity& identity) {
  // Built in one reserved buffer (no stream, no temporary key text): the caller wipes it.
  std::string out;
  out.reserve(512 + port_id.size());
  out.append("# neutron-wireguard-agent: identity of hub port ").append(port_id).append(".\n");
  out.append("# Do not edit: the agent restores this key and port after every restart.\n");
  out.append("# Public key: wg pubkey < <(sed -n 's/^PrivateKey = //p' THIS_FILE)\n");
  out.append("[Interface]\nPrivateKey = ");
  identity.private_key.appendBase64(out);
  out.append("\nListenPort = ").append(std::to_string(identity.listen_port)).append("\n");
  return out;
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

Status IdentityStore::requireLoaded() const {
  if (!dir_fd_) return fail("state directory ", dir_, " is not open (load() failed or was not called)");
  return okStatus();
}

Status IdentityStore::load() {
  identities_.clear();
  unreadable_.clear();
  dir_fd_.reset();
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error::fromErrno(errno, str("create state directory ", dir_));
  }
  UniqueFd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) {
    if (errno == ELOOP || errno == ENOTDIR) {
      return fail("state path ", dir_,
                  " is not a directory (a symbolic link is refused: it holds private keys)");
    }
    return Error::fromErrno(errno, str("open state directory ", dir_));
  }
  struct stat st {};
  if (::fstat(dir.get(), &st) != 0) return Error::fromErrno(errno, str("stat ", dir_));
  if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    return fail("state directory ", dir_, " is owned by uid ", st.st_uid, " with mode ", modeText(st.st_mode),
                ": it holds the hubs' private keys and must be owned by the agent's user (uid ", ::geteuid(),
                ") with mode 0700; check who could have read or written it, then fix it (chown, chmod 0700)");
  }
  // fdopendir takes ownership of a descriptor of its own; ours stays for openat.
  DIR* d = ::fdopendir(::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0));
  if (!d) return Error::fromErrno(errno, str("list state directory ", dir_));
  std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
  std::vector<std::string> leftovers;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name.size() > kTmpSuffix.size() && name.substr(name.size() - kTmpSuffix.size()) == kTmpSuffix) {
      leftovers.emplace_back(name);  // an interrupted put(): it may hold a key, and it is not current
      continue;
    }
    if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) continue;
    std::string port_id(name.substr(0, name.size() - kSuffix.size()));
    if (!validPortId(port_id)) continue;
    auto text = readKeyFile(dir.get(), std::string(name), pathOf(port_id));
    if (!text) {
      unreadable_[port_id] = text.error().message;
      continue;
    }
    auto identity = parseIdentityFile(text->view());
    if (!identity) {
      unreadable_[port_id] = str(pathOf(port_id), ": ", identity.error().message);
      continue;
    }
    identities_[port_id] = *identity;
  }
  for (const auto& name : leftovers) (void)::unlinkat(dir.get(), name.c_str(), 0);
  dir_fd_ = std::move(dir);
  return okStatus();
}

std::optional<HubIdentity> IdentityStore::find(const std::string& port_id) const {
  auto it = identities_.find(port_id);
  if (it == identities_.end()) return std::nullopt;
  return it->second;
}

Status IdentityStore::put(const std::string& port_id, const HubIdentity& identity) {
  if (!validPortId(port_id)) return fail("invalid port ID '", port_id, "' for a state file");
  NWG_RETURN_IF_ERROR(requireLoaded());
  const std::string name = str(port_id, kSuffix);
  const std::string tmp = str(port_id, kTmpSuffix);
  const std::string path = pathOf(port_id);
  (void)::unlinkat(dir_fd_.get(), tmp.c_str(), 0);
  UniqueFd fd(
      ::openat(dir_fd_.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return Error::fromErrno(errno, str("create ", path, ".tmp"));
  const SecretString text(formatIdentityFile(port_id, identity));
  Status written = ::fchmod(fd.get(), 0600) == 0 ? writeAll(fd.get(), text.view(), path + ".tmp")
                                                 : Error::fromErrno(errno, "fchmod");
  if (written.ok() && ::fsync(fd.get()) != 0) written = Error::fromErrno(errno, str("fsync ", path, ".tmp"));
  fd.reset();
  if (!written.ok()) {
    (void)::unlinkat(dir_fd_.get(), tmp.c_str(), 0);
    return written;
  }
  if (::renameat(dir_fd_.get(), tmp.c_str(), dir_fd_.get(), name.c_str()) != 0) {
    int err = errno;
    (void)::unlinkat(dir_fd_.get(), tmp.c_str(), 0);
    return Error::fromErrno(err, str("rename ", path, ".tmp to ", path));
  }
  if (::fsync(dir_fd_.get()) != 0) return Error::fromErrno(errno, str("fsync ", dir_));
  identities_[port_id] = identity;
  unreadable_.erase(port_id);
  return okStatus();
}

Status IdentityStore::remove(const std::string& port_id) {
  if (!validPortId(port_id)) return fail("invalid port ID '", port_id, "' for a state file");
  NWG_RETURN_IF_ERROR(requireLoaded());
  const std::string name = str(port_id, kSuffix);
  if (::unlinkat(dir_fd_.get(), name.c_str(), 0) != 0) {
    if (errno != ENOENT) return Error::fromErrno(errno, str("remove ", pathOf(port_id)));
  } else if (::fsync(dir_fd_.get()) != 0) {
    return Error::fromErrno(errno, str("fsync ", dir_));
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

// UAPI socket transport: one request per connection, non-blocking I/O with an inactivity timeout.
#include "wireguard/uapi/uapi_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

#include "base/unique_fd.h"

namespace nwg::wg::uapi {
namespace {

using Clock = std::chrono::steady_clock;

// Only root or the agent's own user may be handed a private key: wireguard-go runs as root (or as
// the agent, which spawned it).
Status checkListener(int fd, std::string_view ifname, const std::string& path) {
  ucred peer{};
  socklen_t len = sizeof peer;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) {
    return Error::fromErrno(errno, str("device ", ifname, ": SO_PEERCRED on ", path));
  }
  if (peer.uid != 0 && peer.uid != ::geteuid()) {
    return Error(
        str("device ", ifname, ": the process listening on ", path, " (pid ", peer.pid, ") runs as uid ",
            peer.uid, ", neither root nor this agent: refusing to talk to it (it would be sent keys)"),
        EPERM);
  }
  return okStatus();
}

// Appends to a reply that holds keys: growing copies into a new buffer and wipes the old one, so no
// copy of the key text is left in freed memory.
void appendSecret(SecretString& reply, const char* data, size_t size) {
  std::string& text = reply.mutableText();
  if (text.size() + size > text.capacity()) {
    SecretString grown;
    grown.mutableText().reserve(std::max(text.capacity() * 2, text.size() + size));
    grown.mutableText().append(text);
    reply = std::move(grown);  // wipes the old buffer
  }
  reply.mutableText().append(data, size);
}

// Connects without blocking; a full listen backlog (EAGAIN) is retried until the deadline. ENOENT and
// ECONNREFUSED come back as such for the caller to interpret.
Result<UniqueFd> connectTo(const std::string& path, std::string_view ifname, Clock::time_point deadline) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Error(str("device ", ifname, ": socket path ", path, " is too long"), ENAMETOOLONG);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  while (true) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return Error::fromErrno(errno, str("device ", ifname, ": socket()"));
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return fd;
    int err = errno;
    fd.reset();
    switch (err) {
      case ENOENT:        // no socket file
      case ECONNREFUSED:  // a file nobody listens on: stale
        return Error(str("device ", ifname, ": connect to ", path), err);
      case EAGAIN:
      case EINTR:
        if (Clock::now() >= deadline) {
          return Error(str("device ", ifname, ": wireguard-go does not accept connections on ", path),
                       ETIMEDOUT);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      default:
        return Error::fromErrno(err, str("device ", ifname, ": connect to ", path));
    }
  }
}

}  // namespace

std::string UapiClient::socketPath(std::string_view ifname) const {
  return str(socket_dir_, "/", ifname, ".sock");
}

Result<UapiClient::SocketState> UapiClient::probe(std::string_view ifname) const {
  std::string path = socketPath(ifname);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return SocketState::kAbsent;
    return Error::fromErrno(errno, str("device ", ifname, ": stat ", path));
  }
  auto fd = connectTo(path, ifname, Clock::now() + timeout_);
  if (fd.ok()) return SocketState::kLive;
  if (fd.error().code == ECONNREFUSED) return SocketState::kStale;
  if (fd.error().code == ENOENT) return SocketState::kAbsent;  // vanished since lstat: it just exited
  return std::move(fd).error();
}

Result<SecretString> UapiClient::exchange(std::string_view ifname, std::string_view request) const {
  // The whole reply, up to and with its blank line.
  struct WholeReply : ReplySink {
    SecretString text;
    bool take(std::string_view bytes) override {
      const size_t before = text.get().size();
      appendSecret(text, bytes.data(), bytes.size());
      const size_t end = text.get().find("\n\n", before == 0 ? 0 : before - 1);
      if (end == std::string::npos) return false;
      text.mutableText().resize(end + 2);
      return true;
    }
  } reply;
  reply.text.mutableText().reserve(4096);
  NWG_RETURN_IF_ERROR(exchange(ifname, request, reply));
  return std::move(reply.text);
}

Status UapiClient::exchange(std::string_view ifname, std::string_view request, ReplySink& sink) const {
  std::string path = socketPath(ifname);
  auto connected = connectTo(path, ifname, Clock::now() + timeout_);
  if (!connected) {
    if (connected.error().code == ENOENT) {
      return Error(str("device ", ifname, ": no such WireGuard device (no wireguard-go socket ", path, ")"),
                   ENODEV);
    }
    if (connected.error().code == ECONNREFUSED) {
      return Error(str("device ", ifname, ": no such WireGuard device (stale socket ", path,
                       ": nothing listens on it, its wireguard-go process is gone)"),
                   ENODEV);
    }
    return std::move(connected).error();
  }
  UniqueFd fd = std::move(connected).value();
  NWG_RETURN_IF_ERROR(checkListener(fd.get(), ifname, path));

  size_t received = 0;
  size_t written = 0;
  bool can_write = true;
  std::array<char, 65536> buf;
  // Only what a read filled is wiped: wiping all 64 KiB for a one-peer reply was a fifth of the
  // agent's CPU for a spoke change (docs/scale.md).
  struct WipeBuffer {
    std::array<char, 65536>& b;
    size_t used = 0;
    ~WipeBuffer() { secureWipe(b.data(), used); }
  } wipe_buf{buf};
  while (true) {
    pollfd pfd{fd.get(), static_cast<short>(POLLIN | (can_write && written < request.size() ? POLLOUT : 0)),
               0};
    int n = ::poll(&pfd, 1, static_cast<int>(timeout_.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno(errno, str("device ", ifname, ": poll on ", path));
    }
    if (n == 0) {
      return Error(
          str("device ", ifname, ": wireguard-go did not answer within ", timeout_.count(), " ms (", written,
              " of ", request.size(), " request bytes sent, ", received, " reply bytes received)"),
          ETIMEDOUT);
    }
    if (pfd.revents & POLLOUT) {
      ssize_t w = ::send(fd.get(), request.data() + written, request.size() - written, MSG_NOSIGNAL);
      if (w > 0) {
        written += static_cast<size_t>(w);
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        // wireguard-go stops reading after a failed line and answers; the errno may be waiting.
        can_write = false;
      }
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::recv(fd.get(), buf.data(), buf.size(), 0);
      if (r > 0) {
        wipe_buf.used = std::max(wipe_buf.used, static_cast<size_t>(r));
        if (received + static_cast<size_t>(r) > max_reply_) {
          return Error(
              str("device ", ifname, ": the reply on ", path, " exceeds ", max_reply_, " bytes; refused"),
              EMSGSIZE);
        }
        received += static_cast<size_t>(r);
        if (sink.take(std::string_view(buf.data(), static_cast<size_t>(r)))) return okStatus();
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        // A daemon that is being killed accepts into its backlog and then drops the connection.
        if (received == 0) {
          auto state = probe(ifname);
          if (state.ok() && *state != SocketState::kLive) {
            return Error(str("device ", ifname,
                             ": no such WireGuard device (its wireguard-go process exited "
                             "while answering; socket ",
                             path, " is ", *state == SocketState::kStale ? "stale)" : "gone)"),
                         ENODEV);
          }
        }
        return Error(
            str("device ", ifname, ": wireguard-go closed the connection without a complete reply (", written,
                " of ", request.size(), " request bytes sent, ", received, " reply bytes received)"),
            EPIPE);
      }
    }
  }
}

}  // namespace nwg::wg::uapi

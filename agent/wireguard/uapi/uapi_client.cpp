// UAPI socket transport: one request per connection, non-blocking I/O with an inactivity timeout.
#include "wireguard/uapi/uapi_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace nwg::wg::uapi {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Connects without blocking; a full listen backlog (EAGAIN) is retried until the deadline. ENOENT and
// ECONNREFUSED come back as such for the caller to interpret.
Result<int> connectTo(const std::string& path, std::string_view ifname, Clock::time_point deadline) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Error(str("device ", ifname, ": socket path ", path, " is too long"), ENAMETOOLONG);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  while (true) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return Error::fromErrno(errno, str("device ", ifname, ": socket()"));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return fd;
    int err = errno;
    ::close(fd);
    switch (err) {
      case ENOENT:        // no socket file
      case ECONNREFUSED:  // a file nobody listens on: stale
        return Error(str("device ", ifname, ": connect to ", path), err);
      case EAGAIN:
      case EINTR:
        if (Clock::now() >= deadline) {
          return Error(str("device ", ifname, ": wireguard-go does not accept connections on ", path), ETIMEDOUT);
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
  if (fd.ok()) {
    ::close(*fd);
    return SocketState::kLive;
  }
  if (fd.error().code == ECONNREFUSED) return SocketState::kStale;
  if (fd.error().code == ENOENT) return SocketState::kAbsent;  // vanished since lstat: it just exited
  return std::move(fd).error();
}

Result<std::string> UapiClient::exchange(std::string_view ifname, std::string_view request) const {
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
  Fd fd(*connected);

  std::string reply;
  size_t written = 0;
  bool can_write = true;
  char buf[65536];
  while (true) {
    pollfd pfd{fd.get(), static_cast<short>(POLLIN | (can_write && written < request.size() ? POLLOUT : 0)), 0};
    int n = ::poll(&pfd, 1, static_cast<int>(timeout_.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno(errno, str("device ", ifname, ": poll on ", path));
    }
    if (n == 0) {
      return Error(str("device ", ifname, ": wireguard-go did not answer within ", timeout_.count(), " ms (",
                       written, " of ", request.size(), " request bytes sent, ", reply.size(),
                       " reply bytes received)"),
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
      ssize_t r = ::recv(fd.get(), buf, sizeof buf, 0);
      if (r > 0) {
        size_t from = reply.empty() ? 0 : reply.size() - 1;
        reply.append(buf, static_cast<size_t>(r));
        size_t end = reply.find("\n\n", from);
        if (end != std::string::npos) {
          reply.resize(end + 2);
          return reply;
        }
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        // A daemon that is being killed accepts into its backlog and then drops the connection.
        if (reply.empty()) {
          auto state = probe(ifname);
          if (state.ok() && *state != SocketState::kLive) {
            return Error(str("device ", ifname, ": no such WireGuard device (its wireguard-go process exited "
                             "while answering; socket ", path, " is ",
                             *state == SocketState::kStale ? "stale)" : "gone)"),
                         ENODEV);
          }
        }
        return Error(str("device ", ifname, ": wireguard-go closed the connection without a complete reply (",
                         written, " of ", request.size(), " request bytes sent, ", reply.size(),
                         " reply bytes received)"),
                     EPIPE);
      }
    }
  }
}

}  // namespace nwg::wg::uapi

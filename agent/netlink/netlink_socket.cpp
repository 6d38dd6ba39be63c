// Netlink socket I/O (see netlink_socket.h).
#include "netlink/netlink_socket.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "base/secret.h"
#include "netlink/attributes.h"
#include "netlink/reply.h"

namespace nwg::netlink {

namespace {
// Large WireGuard dumps under a slow (emulated) kernel still answer well within this.
constexpr time_t kReceiveTimeoutSec = 30;

// Requests and replies may carry a WireGuard private key (WGDEVICE_A_PRIVATE_KEY): every buffer is
// wiped before it is freed, whatever the protocol (the cost is a memset next to a system call).
struct WipeOnExit {
  std::vector<uint8_t>& bytes;
  ~WipeOnExit() { secureWipe(bytes); }
};
}  // namespace

Result<NetlinkSocket> NetlinkSocket::open(int protocol) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) return Error::fromErrno(errno, str("netlink socket (protocol ", protocol, ")"));
  return adopt(UniqueFd(fd));
}

Result<NetlinkSocket> NetlinkSocket::adopt(UniqueFd fd) {
  int one = 1;
  // Extended acks give the kernel's reason in words; capped acks keep error replies small. Both are
  // best effort: old kernels lack them, and errors then carry only the errno.
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  timeval tv{};
  tv.tv_sec = kReceiveTimeoutSec;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
    return Error::fromErrno(errno, "netlink socket: SO_RCVTIMEO");
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    return Error::fromErrno(errno, "netlink socket: bind");
  }
  socklen_t len = sizeof local;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &len) < 0) {
    return Error::fromErrno(errno, "netlink socket: getsockname");
  }
  return NetlinkSocket(std::move(fd), local.nl_pid);
}

Status NetlinkSocket::send(std::vector<uint8_t>& message, uint16_t extra_flags, uint32_t seq) {
  if (message.size() < kMessageHeaderLen) return fail("netlink request shorter than its header");
  nlmsghdr header{};
  std::memcpy(&header, message.data(), sizeof header);
  header.nlmsg_flags = static_cast<uint16_t>(header.nlmsg_flags | NLM_F_REQUEST | extra_flags);
  header.nlmsg_seq = seq;
  header.nlmsg_pid = port_id_;
  std::memcpy(message.data(), &header, sizeof header);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = ::sendto(fd_.get(), message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                    sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return Error::fromErrno(errno, "netlink send");
  if (static_cast<size_t>(sent) != message.size()) return fail("netlink send: short write");
  return okStatus();
}

Result<std::vector<uint8_t>> NetlinkSocket::receive() {
  // Peek first to learn the datagram's size, so no reply is ever truncated.
  ssize_t size;
  do {
    size = ::recv(fd_.get(), nullptr, 0, MSG_PEEK | MSG_TRUNC);
  } while (size < 0 && errno == EINTR);
  if (size < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Error("netlink receive: timed out", ETIMEDOUT);
    return Error::fromErrno(errno, "netlink receive");
  }
  std::vector<uint8_t> buf(static_cast<size_t>(size));
  sockaddr_nl from{};
  iovec iov{buf.data(), buf.size()};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t got;
  do {
    got = ::recvmsg(fd_.get(), &msg, 0);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return Error::fromErrno(errno, "netlink receive");
  if (msg.msg_flags & MSG_TRUNC) return fail("netlink receive: reply truncated");
  if (from.nl_pid != 0) return fail("netlink receive: datagram from port ", from.nl_pid, ", not the kernel");
  buf.resize(static_cast<size_t>(got));
  return buf;
}

Status NetlinkSocket::collect(ReplyCollector& collector) {
  while (!collector.done()) {
    auto datagram = receive();
    if (!datagram.ok()) {
      broken_ = true;
      return std::move(datagram).error();
    }
    WipeOnExit wipe{*datagram};
    Status fed = collector.feed(*datagram);
    if (!fed.ok()) {
      if (!collector.kernelRefused()) broken_ = true;
      return fed;
    }
  }
  return okStatus();
}

Status NetlinkSocket::request(std::vector<uint8_t> message, std::vector<std::vector<uint8_t>>* replies) {
  WipeOnExit wipe{message};
  if (broken_) return fail("netlink socket: unusable after an earlier failure");
  const uint32_t seq = ++seq_;
  if (Status sent = send(message, NLM_F_ACK, seq); !sent.ok()) {
    broken_ = true;
    return sent;
  }
  ReplyCollector collector(ReplyCollector::Mode::kAck, seq, port_id_);
  NWG_RETURN_IF_ERROR(collect(collector));
  if (replies) {
    for (auto& m : collector.messages()) replies->push_back(std::move(m));
  }
  return okStatus();
}

Result<std::vector<std::vector<uint8_t>>> NetlinkSocket::dump(std::vector<uint8_t> message) {
  WipeOnExit wipe{message};
  if (broken_) return fail("netlink socket: unusable after an earlier failure");
  for (int attempt = 1; attempt <= kDumpAttempts; ++attempt) {
    const uint32_t seq = ++seq_;
    if (Status sent = send(message, NLM_F_DUMP, seq); !sent.ok()) {
      broken_ = true;
      return std::move(sent).error();
    }
    ReplyCollector collector(ReplyCollector::Mode::kDump, seq, port_id_);
    NWG_RETURN_IF_ERROR(collect(collector));
    if (!collector.interrupted()) return std::move(collector.messages());
    ++interrupted_dumps_;
  }
  return Error(str("netlink dump: interrupted by concurrent changes ", kDumpAttempts, " times in a row"),
               EAGAIN);
}

}  // namespace nwg::netlink

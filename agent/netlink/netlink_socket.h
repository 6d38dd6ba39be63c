// NetlinkSocket: one AF_NETLINK socket (rtnetlink or generic netlink) that sends requests and reads
// their replies, checking sequence numbers and port IDs, asking for extended-ack error text and
// retrying dumps that the kernel marks as interrupted. The socket stays in the network namespace it
// was opened in (see LinuxNamespaces::openSocket for opening one inside another namespace), and it
// serves any number of requests, one at a time: sequence numbers keep late replies apart.
// Request and datagram buffers are wiped after use (a WireGuard request or dump carries the private
// key); replies handed to the caller are the caller's to wipe.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nwg::netlink {

class ReplyCollector;

class NetlinkSocket {
 public:
  static constexpr int kDumpAttempts = 8;

  // Opens a socket of `protocol` (NETLINK_ROUTE, NETLINK_GENERIC) in the caller's namespace.
  static Result<NetlinkSocket> open(int protocol);
  // Takes an already opened AF_NETLINK socket (e.g. opened inside another namespace) and binds it.
  static Result<NetlinkSocket> adopt(UniqueFd fd);

  // Sends `message` asking for an acknowledgement and waits for it. Data replies, if any, are
  // appended to `replies`. The Error carries the kernel's errno and extended-ack text.
  Status request(std::vector<uint8_t> message, std::vector<std::vector<uint8_t>>* replies = nullptr);
  // Sends `message` as a dump request and returns every reply message (header included). A dump
  // interrupted by a concurrent change (NLM_F_DUMP_INTR) is retried whole, up to kDumpAttempts times.
  Result<std::vector<std::vector<uint8_t>>> dump(std::vector<uint8_t> message);

  uint32_t portId() const { return port_id_; }
  // True once a send or receive failed or a reply broke the protocol (wrong port, malformed bytes):
  // what is left in the socket is unknown, so it must not serve another request. A request the kernel
  // refused (an errno in its acknowledgement) leaves the socket healthy.
  bool broken() const { return broken_; }
  // Dump attempts thrown away because the kernel marked them NLM_F_DUMP_INTR (for logs and tests).
  size_t interruptedDumps() const { return interrupted_dumps_; }

 private:
  NetlinkSocket(UniqueFd fd, uint32_t port_id) : fd_(std::move(fd)), port_id_(port_id) {}
  Status send(std::vector<uint8_t>& message, uint16_t extra_flags, uint32_t seq);
  Result<std::vector<uint8_t>> receive();
  // Reads datagrams until `collector` has the whole reply.
  Status collect(ReplyCollector& collector);

  UniqueFd fd_;
  uint32_t port_id_ = 0;
  uint32_t seq_ = 0;
  size_t interrupted_dumps_ = 0;
  bool broken_ = false;
};

}  // namespace nwg::netlink

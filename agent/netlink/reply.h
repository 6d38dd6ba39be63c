// Decoding what the kernel answers on a netlink socket: splitting a datagram into messages, reading
// NLMSG_ERROR/NLMSG_DONE (with the extended-ack text), and collecting the replies to one request
// (ReplyCollector). Pure functions of bytes, so they are unit-tested and fuzzed without a kernel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "netlink/attributes.h"

namespace nwg::netlink {

// One message inside a datagram; `payload` is what follows the nlmsghdr.
struct Message {
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t seq = 0;
  uint32_t port_id = 0;
  Bytes payload;
};

// Splits a received datagram, checking every nlmsg_len against the bytes that are there.
Result<std::vector<Message>> splitMessages(Bytes datagram);

// The outcome carried by NLMSG_ERROR (error 0 = acknowledgement) or NLMSG_DONE.
struct KernelStatus {
  int error = 0;                // a positive errno, 0 for success
  std::string ext_ack;          // NLMSGERR_ATTR_MSG, if the kernel gave one
  uint32_t ext_ack_offset = 0;  // NLMSGERR_ATTR_OFFS: where in our request the problem is, 0 if none
};

// Reads an NLMSG_ERROR or NLMSG_DONE message, checking its length before reading it.
Result<KernelStatus> parseKernelStatus(const Message& message);

// An Error for a failed request: "<what>: <strerror> (<ext-ack text>)", carrying the errno.
Error kernelError(const KernelStatus& status, std::string_view what);

// Collects the replies to one request, message by message, checking sequence number and port ID.
class ReplyCollector {
 public:
  enum class Mode { kAck, kDump };
  ReplyCollector(Mode mode, uint32_t seq, uint32_t port_id) : mode_(mode), seq_(seq), port_id_(port_id) {}

  // Feeds one received datagram. Fails on malformed bytes, a reply addressed to another port, or an
  // error reported by the kernel (then done() is true and the Error carries errno and ext-ack text).
  // Replies with another sequence number answer an earlier request and are skipped.
  Status feed(Bytes datagram);

  bool done() const { return done_; }
  // True when feed() failed because the kernel reported an error for the request (the socket is fine),
  // false when it failed on malformed or misaddressed bytes.
  bool kernelRefused() const { return kernel_refused_; }
  // A dump whose messages carried NLM_F_DUMP_INTR: the kernel's state changed during the dump, so
  // the result may be inconsistent and the whole dump must be retried.
  bool interrupted() const { return interrupted_; }
  size_t skipped() const { return skipped_; }
  // The data messages received (complete messages, header included), in order.
  std::vector<std::vector<uint8_t>>& messages() { return messages_; }

 private:
  Mode mode_;
  uint32_t seq_;
  uint32_t port_id_;
  bool done_ = false;
  bool kernel_refused_ = false;
  bool interrupted_ = false;
  size_t skipped_ = 0;
  std::vector<std::vector<uint8_t>> messages_;
};

// Re-reads a complete message stored by ReplyCollector (its header and payload).
Result<Message> messageOf(const std::vector<uint8_t>& bytes);

}  // namespace nwg::netlink

// Decoding of netlink replies (see reply.h).
#include "netlink/reply.h"

#include <linux/netlink.h>

#include <array>
#include <cstring>

namespace nwg::netlink {

Result<std::vector<Message>> splitMessages(Bytes datagram) {
  std::vector<Message> out;
  size_t at = 0;
  while (at < datagram.size()) {
    if (datagram.size() - at < kMessageHeaderLen) {
      return fail("netlink reply: truncated message header at offset ", at);
    }
    nlmsghdr header{};
    std::memcpy(&header, datagram.data() + at, sizeof header);
    if (header.nlmsg_len < kMessageHeaderLen || header.nlmsg_len > datagram.size() - at) {
      return fail("netlink reply: message of type ", header.nlmsg_type, " has bad length ", header.nlmsg_len,
                  " at offset ", at);
    }
    Message m;
    m.type = header.nlmsg_type;
    m.flags = header.nlmsg_flags;
    m.seq = header.nlmsg_seq;
    m.port_id = header.nlmsg_pid;
    m.payload = datagram.subspan(at + kMessageHeaderLen, header.nlmsg_len - kMessageHeaderLen);
    out.push_back(m);
    const size_t next = at + align4(header.nlmsg_len);
    at = next > datagram.size() ? datagram.size() : next;
  }
  return out;
}

Result<Message> messageOf(const std::vector<uint8_t>& bytes) {
  NWG_ASSIGN_OR_RETURN(auto messages, splitMessages(bytes));
  if (messages.size() != 1) return fail("netlink: expected one stored message, found ", messages.size());
  return messages.front();
}

namespace {

const std::array<AttrRule, NLMSGERR_ATTR_OFFS + 1> kExtAckPolicy = [] {
  std::array<AttrRule, NLMSGERR_ATTR_OFFS + 1> p{};
  p[NLMSGERR_ATTR_MSG] = {AttrKind::kString, 0, 1024};
  p[NLMSGERR_ATTR_OFFS] = {AttrKind::kU32};
  return p;
}();

Status readExtAck(Bytes tlvs, KernelStatus& status) {
  NWG_ASSIGN_OR_RETURN(auto attrs, Attrs::parse(tlvs, kExtAckPolicy, "netlink extended ack"));
  if (const Attr* msg = attrs.get(NLMSGERR_ATTR_MSG)) status.ext_ack = std::string(msg->str());
  if (const Attr* offs = attrs.get(NLMSGERR_ATTR_OFFS)) status.ext_ack_offset = offs->u32();
  return okStatus();
}

// The kernel reports -errno; anything outside errno's range is treated as a protocol error.
Result<int> errnoOf(int32_t raw) {
  if (raw > 0 || raw < -4095) return fail("netlink reply: invalid error code ", raw);
  return -raw;
}

}  // namespace

Result<KernelStatus> parseKernelStatus(const Message& message) {
  KernelStatus status;
  if (message.type == NLMSG_DONE) {
    // Old kernels sent an empty NLMSG_DONE; newer ones the dump's error code, then ext-ack TLVs.
    if (message.payload.size() < sizeof(int32_t)) return status;
    int32_t raw = 0;
    std::memcpy(&raw, message.payload.data(), sizeof raw);
    NWG_ASSIGN_OR_RETURN(status.error, errnoOf(raw));
    if (message.flags & NLM_F_ACK_TLVS) {
      NWG_RETURN_IF_ERROR(readExtAck(message.payload.subspan(sizeof raw), status));
    }
    return status;
  }
  if (message.type != NLMSG_ERROR)
    return fail("netlink reply: message type ", message.type, " is not a status");
  if (message.payload.size() < sizeof(nlmsgerr)) {
    return fail("netlink reply: NLMSG_ERROR of ", message.payload.size(), " bytes, expected at least ",
                sizeof(nlmsgerr));
  }
  nlmsgerr err{};
  std::memcpy(&err, message.payload.data(), sizeof err);
  NWG_ASSIGN_OR_RETURN(status.error, errnoOf(err.error));
  if (message.flags & NLM_F_ACK_TLVS) {
    // Without NLM_F_CAPPED the kernel echoes our whole request before the TLVs.
    size_t skip = sizeof err;
    if (!(message.flags & NLM_F_CAPPED)) {
      if (err.msg.nlmsg_len < kMessageHeaderLen) return fail("netlink reply: echoed request has bad length");
      skip = sizeof err.error + align4(err.msg.nlmsg_len);
    }
    if (skip > message.payload.size()) return fail("netlink reply: extended ack beyond the message");
    NWG_RETURN_IF_ERROR(readExtAck(message.payload.subspan(skip), status));
  }
  return status;
}

Error kernelError(const KernelStatus& status, std::string_view what) {
  Error e = Error::fromErrno(status.error, what);
  if (!status.ext_ack.empty()) e.message += str(" (", status.ext_ack, ")");
  return e;
}

Status ReplyCollector::feed(Bytes datagram) {
  NWG_ASSIGN_OR_RETURN(auto messages, splitMessages(datagram));
  for (const Message& m : messages) {
    if (done_) return fail("netlink reply: message after the end of the reply");
    if (m.port_id != port_id_) {
      return fail("netlink reply: addressed to port ", m.port_id, ", expected ", port_id_);
    }
    if (m.seq != seq_) {
      ++skipped_;
      continue;
    }
    if (m.flags & NLM_F_DUMP_INTR) interrupted_ = true;
    if (m.type == NLMSG_ERROR || m.type == NLMSG_DONE) {
      if (m.type == NLMSG_DONE && mode_ != Mode::kDump)
        return fail("netlink reply: NLMSG_DONE answering a non-dump");
      NWG_ASSIGN_OR_RETURN(KernelStatus status, parseKernelStatus(m));
      done_ = true;
      if (status.error != 0) {
        kernel_refused_ = true;
        return kernelError(status, "netlink request");
      }
      continue;
    }
    if (m.type == NLMSG_NOOP) continue;
    if (m.type == NLMSG_OVERRUN) return fail("netlink reply: overrun, replies were lost");
    if (m.type < NLMSG_MIN_TYPE) return fail("netlink reply: unexpected control message type ", m.type);
    const auto* begin = m.payload.data() - kMessageHeaderLen;
    messages_.emplace_back(begin, m.payload.data() + m.payload.size());
    if (mode_ == Mode::kDump && !(m.flags & NLM_F_MULTI)) {
      return fail("netlink reply: dump message without NLM_F_MULTI");
    }
  }
  return okStatus();
}

}  // namespace nwg::netlink

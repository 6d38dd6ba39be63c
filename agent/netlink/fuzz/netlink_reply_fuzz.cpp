// Fuzzes the decoding of kernel replies: datagram splitting, NLMSG_ERROR/NLMSG_DONE with extended
// acks, and the reply collector's sequence/port checks, in both ack and dump mode.
#include <cstddef>
#include <cstdint>
#include <span>

#include "netlink/reply.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  if (auto messages = nwg::netlink::splitMessages(bytes); messages.ok()) {
    for (const auto& m : *messages) (void)nwg::netlink::parseKernelStatus(m);
  }
  for (auto mode : {nwg::netlink::ReplyCollector::Mode::kAck, nwg::netlink::ReplyCollector::Mode::kDump}) {
    nwg::netlink::ReplyCollector collector(mode, 1, 0);
    // Feed the input as two datagrams too, as a reply may span several.
    const size_t half = size / 2;
    if (collector.feed(bytes.first(half)).ok()) (void)collector.feed(bytes.subspan(half));
    for (const auto& stored : collector.messages()) (void)nwg::netlink::messageOf(stored);
  }
  return 0;
}

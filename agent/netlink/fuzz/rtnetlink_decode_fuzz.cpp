// Fuzzes the rtnetlink decoders RtnetlinkLinks applies to kernel replies (links and addresses).
#include <cstddef>
#include <cstdint>
#include <span>

#include "netlink/reply.h"
#include "netlink/rtnetlink_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto messages = nwg::netlink::splitMessages(std::span<const uint8_t>(data, size));
  if (!messages.ok()) return 0;
  for (auto m : *messages) {
    // Decode each message both ways, whatever its type says, to reach every branch.
    m.type = 16;  // RTM_NEWLINK
    (void)nwg::netlink::rtnl::decodeLink(m);
    m.type = 20;  // RTM_NEWADDR
    (void)nwg::netlink::rtnl::decodeAddress(m);
  }
  return 0;
}

// Fuzzes the decoders of kernel generic netlink bytes: WireGuard device dumps (coalescing peers across
// messages) and family resolution replies.
#include <cstddef>
#include <cstdint>
#include <span>

#include "netlink/reply.h"
#include "wireguard/genl/device_codec.h"
#include "wireguard/genl/genl_family.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto messages = nwg::netlink::splitMessages(std::span<const uint8_t>(data, size));
  if (!messages.ok()) return 0;
  nwg::wg::genl::DeviceDumpDecoder decoder(0x20);
  bool ok = true;
  for (auto m : *messages) {
    (void)nwg::wg::genl::decodeFamilyId(m, "wireguard");
    m.type = 0x20;  // reach the device decoder whatever type the input claims
    if (ok) ok = decoder.add(m).ok();
  }
  (void)std::move(decoder).finish();
  return 0;
}

// Fuzzes the UAPI reply decoders (get=1 replies and errno replies), the outside bytes the agent reads
// from wireguard-go's socket: no crash, and anything accepted must be self-consistent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "wireguard/diff.h"
#include "wireguard/uapi/uapi_codec.h"

namespace {

// Re-encodes a decoded device in the shared line syntax (as a set request's body) and decodes it
// again: the result must be identical, so decoding is lossless for every field it accepts.
void checkRoundTrip(const nwg::wg::Device& device) {
  const nwg::wg::Device& update = device;
  std::string text = nwg::wg::uapi::encodeSetRequest(update);
  // Strip "set=1\n" and the final blank line; append what a get reply ends with.
  std::string as_reply = text.substr(6, text.size() - 7) + "errno=0\n\n";
  auto again = nwg::wg::uapi::decodeGetReply(as_reply);
  if (!again.ok()) __builtin_trap();
  nwg::wg::Device expected = device;
  for (auto& p : expected.peers) p.stats = {};  // statistics are read-only: never encoded
  if (!(*again == expected)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool crypto_ready = nwg::initCrypto().ok();
  if (!crypto_ready) __builtin_trap();
  std::string_view text(reinterpret_cast<const char*>(data), size);

  static_cast<void>(nwg::wg::uapi::decodeSetReply(text));
  auto device = nwg::wg::uapi::decodeGetReply(text);
  if (!device.ok()) {
    if (device.error().message.empty()) __builtin_trap();
    return 0;
  }
  if (device->public_key.has_value()) __builtin_trap();  // never reported by the UAPI, never derived
  for (const auto& p : device->peers) {
    if (!p.preshared_key || !p.persistent_keepalive) __builtin_trap();  // read-back defaults filled
  }
  checkRoundTrip(*device);
  // The diff of a device against itself is always empty.
  if (!nwg::wg::isEmptyUpdate(nwg::wg::diff(*device, *device))) __builtin_trap();
  return 0;
}

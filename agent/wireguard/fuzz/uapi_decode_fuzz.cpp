// Fuzzes the UAPI reply decoders (get=1 replies and errno replies), the outside bytes the agent reads
// from wireguard-go's socket: no crash, anything accepted must be self-consistent, and the reply fed
// to GetReplyDecoder in two pieces (as two reads of the socket) must decode as the whole does.
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

// The same bytes in two pieces, split where the first byte says: the same device or the same error.
void checkSplit(std::string_view text, const nwg::Result<nwg::wg::Device>& whole) {
  if (text.empty()) return;
  const size_t cut = static_cast<unsigned char>(text[0]) % (text.size() + 1);
  nwg::wg::uapi::GetReplyDecoder decoder;
  size_t taken = decoder.feed(text.substr(0, cut));
  if (taken == cut && !decoder.complete()) taken += decoder.feed(text.substr(cut));
  const bool all_taken = taken == text.size();
  auto pieces = std::move(decoder).finish();
  if (!all_taken) {  // decodeGetReply refuses bytes after the end
    if (whole.ok() || whole.error().message.find("bytes after its end") == std::string::npos)
      __builtin_trap();
    return;
  }
  if (pieces.ok() != whole.ok()) __builtin_trap();
  if (whole.ok() ? !(*pieces == *whole) : pieces.error().message != whole.error().message) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool crypto_ready = nwg::initCrypto().ok();
  if (!crypto_ready) __builtin_trap();
  std::string_view text(reinterpret_cast<const char*>(data), size);

  static_cast<void>(nwg::wg::uapi::decodeSetReply(text));
  auto device = nwg::wg::uapi::decodeGetReply(text);
  checkSplit(text, device);
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

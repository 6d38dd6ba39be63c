// Fuzzes the strict key codecs: anything accepted must round-trip to the same text form, and our
// branch-free decoders must accept exactly what libsodium's strict decoders accept, with the same bytes.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "keys/key.h"
#include "keys/tests/sodium_reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool ready = nwg::initCrypto().ok();
  if (!ready) __builtin_trap();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto base64 = nwg::testing::sodiumBase64Key(text);
  if (auto k = nwg::Key::fromBase64(text); k.ok() != base64.has_value()) {
    __builtin_trap();
  } else if (k.ok() && (k->toBase64() != text || k->bytes() != *base64)) {
    __builtin_trap();
  }
  const auto hex = nwg::testing::sodiumHexKey(text);
  if (auto k = nwg::Key::fromHex(text); k.ok() != hex.has_value()) {
    __builtin_trap();
  } else if (k.ok()) {
    auto again = nwg::Key::fromHex(k->toHex());
    if (!again.ok() || *again != *k || k->bytes() != *hex) __builtin_trap();
  }
  return 0;
}

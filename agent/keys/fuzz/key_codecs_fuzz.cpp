// Fuzzes the strict key codecs: anything accepted must round-trip to the same text form, and our
// branch-free decoders must accept exactly what libsodium's strict decoders accept, with the same bytes.
#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "keys/key.h"

namespace {

bool sodiumHex(std::string_view text, std::array<uint8_t, 32>& out) {
  size_t len = 0;
  const char* end = nullptr;
  return sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end) == 0 &&
         len == 32 && end == text.data() + text.size();
}

bool sodiumCanonicalBase64(std::string_view text, std::array<uint8_t, 32>& out) {
  size_t len = 0;
  const char* end = nullptr;
  if (text.size() != 44 ||
      sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != 32 || end != text.data() + text.size()) {
    return false;
  }
  char again[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(again, sizeof again, out.data(), out.size(), sodium_base64_VARIANT_ORIGINAL);
  return text == std::string_view(again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool ready = nwg::initCrypto().ok();
  if (!ready) __builtin_trap();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::array<uint8_t, 32> expected{};
  if (auto k = nwg::Key::fromBase64(text); k.ok() != sodiumCanonicalBase64(text, expected)) {
    __builtin_trap();
  } else if (k.ok() && (k->toBase64() != text || k->bytes() != expected)) {
    __builtin_trap();
  }
  if (auto k = nwg::Key::fromHex(text); k.ok() != sodiumHex(text, expected)) {
    __builtin_trap();
  } else if (k.ok()) {
    auto again = nwg::Key::fromHex(k->toHex());
    if (!again.ok() || *again != *k || k->bytes() != expected) __builtin_trap();
  }
  return 0;
}

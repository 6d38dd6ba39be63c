// libsodium's strict key decoders, as the reference our own (branch-free) decoders must agree with:
// used by the key unit tests and the key codec fuzzer. nullopt where libsodium refuses the text.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace nwg::testing {

// Exactly 64 hex digits, either case.
inline std::optional<std::array<uint8_t, 32>> sodiumHexKey(std::string_view text) {
  std::array<uint8_t, 32> out{};
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end) != 0 ||
      len != 32 || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return out;
}

// Exactly 44 characters of standard base64, and only the canonical encoding: libsodium tolerates set
// trailing bits, which a key's text never has.
inline std::optional<std::array<uint8_t, 32>> sodiumBase64Key(std::string_view text) {
  std::array<uint8_t, 32> out{};
  size_t len = 0;
  const char* end = nullptr;
  if (text.size() != 44 ||
      sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != 32 || end != text.data() + text.size()) {
    return std::nullopt;
  }
  char again[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(again, sizeof again, out.data(), out.size(), sodium_base64_VARIANT_ORIGINAL);
  if (text != std::string_view(again)) return std::nullopt;
  return out;
}

}  // namespace nwg::testing

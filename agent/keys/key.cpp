#include "keys/key.h"

#include <sodium.h>

#include <cstring>

namespace nwg {

Key::~Key() {
  sodium_memzero(bytes_.data(), bytes_.size());
}

Status initCrypto() {
  if (sodium_init() < 0) return fail("libsodium failed to initialise");
  return okStatus();
}

Result<Key> Key::fromBase64(std::string_view text) {
  if (text.size() != 44) {
    return fail("key must be 44 characters of base64, got ", text.size(), " characters");
  }
  if (text[43] != '=' || text[42] == '=') return fail("key must end with exactly one '='");
  std::array<uint8_t, kSize> bytes{};
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != kSize || end != text.data() + text.size()) {
    sodium_memzero(bytes.data(), bytes.size());
    return fail("key is not valid base64");
  }
  Key key(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  // Reject encodings whose unused trailing bits are set: they decode, but are not the key's text.
  std::string canonical = key.toBase64();
  bool same = sodium_memcmp(canonical.data(), text.data(), 44) == 0;
  sodium_memzero(canonical.data(), canonical.size());
  if (!same) return fail("key is not canonical base64 (trailing bits set)");
  return key;
}

Result<Key> Key::fromHex(std::string_view text) {
  if (text.size() != 64) return fail("key must be 64 hex digits, got ", text.size(), " characters");
  std::array<uint8_t, kSize> bytes{};
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &len, &end) != 0 ||
      len != kSize || end != text.data() + text.size()) {
    sodium_memzero(bytes.data(), bytes.size());
    return fail("key is not valid hex");
  }
  Key key(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

std::string Key::toBase64() const {
  char buf[sodium_base64_ENCODED_LEN(kSize, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(buf, sizeof buf, bytes_.data(), bytes_.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(buf);
  sodium_memzero(buf, sizeof buf);
  return out;
}

std::string Key::toHex() const {
  char buf[kSize * 2 + 1];
  sodium_bin2hex(buf, sizeof buf, bytes_.data(), bytes_.size());
  std::string out(buf);
  sodium_memzero(buf, sizeof buf);
  return out;
}

bool Key::isZero() const {
  return sodium_is_zero(bytes_.data(), bytes_.size()) == 1;
}

bool Key::operator==(const Key& other) const {
  return sodium_memcmp(bytes_.data(), other.bytes_.data(), kSize) == 0;
}

std::strong_ordering Key::operator<=>(const Key& other) const {
  int c = std::memcmp(bytes_.data(), other.bytes_.data(), kSize);
  return c < 0 ? std::strong_ordering::less
               : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
}

Key generatePrivateKey() {
  std::array<uint8_t, Key::kSize> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  // Curve25519 clamping, as wg genkey does.
  bytes[0] &= 248;
  bytes[31] = static_cast<uint8_t>((bytes[31] & 127) | 64);
  Key key(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

Key publicKeyOf(const Key& private_key) {
  std::array<uint8_t, Key::kSize> pub{};
  crypto_scalarmult_curve25519_base(pub.data(), private_key.bytes().data());
  return Key(pub);
}

}  // namespace nwg

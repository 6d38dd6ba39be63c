// WireGuard keys (see key.h): constant-time text codecs; libsodium for randomness and X25519.
#include "keys/key.h"

#include <sodium.h>

#include <bit>
#include <cstring>

namespace nwg {

namespace {

// Branch-free character classes: an all-ones mask when lo <= c <= hi, else 0. The decoders below
// use no table and no data-dependent branch, so their timing says nothing about a secret key.
inline uint32_t inRange(uint32_t c, uint32_t lo, uint32_t hi) {
  const auto below = static_cast<int32_t>(c - lo);  // negative when c < lo
  const auto above = static_cast<int32_t>(hi - c);  // negative when c > hi
  return ~static_cast<uint32_t>((below | above) >> 31);
}

// A standard-alphabet base64 character's value, and `bad` gains bits when `c` is not one.
inline uint32_t base64Value(uint32_t c, uint32_t& bad) {
  const uint32_t upper = inRange(c, 'A', 'Z');
  const uint32_t lower = inRange(c, 'a', 'z');
  const uint32_t digit = inRange(c, '0', '9');
  const uint32_t plus = inRange(c, '+', '+');
  const uint32_t slash = inRange(c, '/', '/');
  bad |= ~(upper | lower | digit | plus | slash);
  return (upper & (c - 'A')) | (lower & (c - 'a' + 26)) | (digit & (c - '0' + 52)) | (plus & 62u) |
         (slash & 63u);
}

inline char hexDigit(uint32_t nibble) {
  // '0'..'9' for 0..9, 'a'..'f' for 10..15, without a branch on the (secret) nibble.
  return static_cast<char>(nibble + '0' + (inRange(nibble, 10, 15) & ('a' - '0' - 10)));
}

inline uint32_t at(std::string_view text, size_t i) {
  return static_cast<unsigned char>(text[i]);
}

}  // namespace

Status initCrypto() {
  if (sodium_init() < 0) return fail("libsodium failed to initialise");
  return okStatus();
}

Result<Key> Key::fromBase64(std::string_view text) {
  if (text.size() != 44) {
    return fail("key must be 44 characters of base64, got ", text.size(), " characters");
  }
  if (text[43] != '=' || text[42] == '=') return fail("key must end with exactly one '='");
  // 43 characters carry 258 bits: the 32 bytes and two trailing bits that must be zero.
  Key key;
  uint32_t bad = 0;
  size_t out = 0;
  for (size_t i = 0; i < 40; i += 4) {
    const uint32_t v = (base64Value(at(text, i), bad) << 18) | (base64Value(at(text, i + 1), bad) << 12) |
                       (base64Value(at(text, i + 2), bad) << 6) | base64Value(at(text, i + 3), bad);
    key.bytes_[out++] = static_cast<uint8_t>(v >> 16);
    key.bytes_[out++] = static_cast<uint8_t>(v >> 8);
    key.bytes_[out++] = static_cast<uint8_t>(v);
  }
  const uint32_t v = (base64Value(at(text, 40), bad) << 12) | (base64Value(at(text, 41), bad) << 6) |
                     base64Value(at(text, 42), bad);
  key.bytes_[30] = static_cast<uint8_t>(v >> 10);
  key.bytes_[31] = static_cast<uint8_t>(v >> 2);
  if (bad != 0) return fail("key is not valid base64");
  // Encodings whose unused trailing bits are set decode, but are not the key's text.
  if ((v & 3) != 0) return fail("key is not canonical base64 (trailing bits set)");
  return key;
}

namespace {

constexpr uint64_t kEachByte = 0x0101010101010101u;

// A per-byte range test over 8 ASCII characters at once: bit 7 of each byte is set when that byte
// lies in [lo, hi]. Exact for bytes below 0x80 (no carry crosses bytes); callers reject the others.
inline uint64_t bytesInRange(uint64_t w, uint8_t lo, uint8_t hi) {
  const uint64_t from_lo = w + kEachByte * (0x80u - lo);  // bit 7 set where byte >= lo
  const uint64_t past_hi = w + kEachByte * (0x7fu - hi);  // bit 7 set where byte > hi
  return from_lo & ~past_hi & (kEachByte * 0x80u);
}

// Decodes 8 hex digits (in memory order) into 4 bytes; `bad` gains bits for any non-hex character.
// No branch and no table: the same instructions whatever the characters.
inline uint32_t decodeHex8(uint64_t w, uint64_t& bad) {
  const uint64_t high = kEachByte * 0x80u;
  bad |= w & high;                                 // not ASCII
  const uint64_t lower = w | (kEachByte * 0x20u);  // 'A'-'F' -> 'a'-'f' (digits keep their code)
  const uint64_t digit = bytesInRange(w, '0', '9');
  const uint64_t alpha = bytesInRange(lower, 'a', 'f');
  bad |= ~(digit | alpha) & high;
  // Bit 7 set in every byte first, so that subtracting within a byte never borrows from the next.
  const uint64_t digit_value = ((w | high) - kEachByte * '0') & (kEachByte * 0x0fu);
  const uint64_t alpha_value = ((lower | high) - kEachByte * ('a' - 10)) & (kEachByte * 0x0fu);
  const uint64_t digit_mask = (digit >> 7) * 0xffu;
  const uint64_t alpha_mask = (alpha >> 7) * 0xffu;
  const uint64_t nibbles = (digit_value & digit_mask) | (alpha_value & alpha_mask);
  // Byte k holds nibble k; pair them as (n0 << 4 | n1) and gather the four results.
  uint64_t pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00ff00ff00ff00ffu;
  pairs = (pairs | (pairs >> 8)) & 0x0000ffff0000ffffu;
  pairs = (pairs | (pairs >> 16)) & 0x00000000ffffffffu;
  return static_cast<uint32_t>(pairs);
}

inline uint64_t loadLittleEndian64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}

}  // namespace

Result<Key> Key::fromHex(std::string_view text) {
  if (text.size() != 64) return fail("key must be 64 hex digits, got ", text.size(), " characters");
  Key key;
  uint64_t bad = 0;
  for (size_t i = 0; i < 8; ++i) {
    uint32_t four = decodeHex8(loadLittleEndian64(text.data() + 8 * i), bad);
    // decodeHex8 returns the bytes in memory order in a little-endian value.
    if constexpr (std::endian::native == std::endian::big) four = __builtin_bswap32(four);
    std::memcpy(key.bytes_.data() + 4 * i, &four, 4);
  }
  if (bad != 0) return fail("key is not valid hex");
  return key;
}

std::string Key::toBase64() const {
  char buf[sodium_base64_ENCODED_LEN(kSize, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(buf, sizeof buf, bytes_.data(), bytes_.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(buf);
  sodium_memzero(buf, sizeof buf);
  return out;
}

void Key::appendBase64(std::string& out) const {
  char buf[sodium_base64_ENCODED_LEN(kSize, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(buf, sizeof buf, bytes_.data(), bytes_.size(), sodium_base64_VARIANT_ORIGINAL);
  out.append(buf);
  sodium_memzero(buf, sizeof buf);
}

void Key::appendHex(std::string& out) const {
  const size_t from = out.size();
  out.resize(from + 2 * kSize);
  char* p = out.data() + from;
  for (size_t i = 0; i < kSize; ++i) {
    p[2 * i] = hexDigit(static_cast<uint32_t>(bytes_[i]) >> 4);
    p[2 * i + 1] = hexDigit(static_cast<uint32_t>(bytes_[i]) & 0xfu);
  }
}

std::string Key::toHex() const {
  std::string out;
  appendHex(out);
  return out;
}

bool Key::isZero() const {
  return sodium_is_zero(bytes_.data(), bytes_.size()) == 1;
}

std::strong_ordering Key::operator<=>(const Key& other) const {
  int c = std::memcmp(bytes_.data(), other.bytes_.data(), kSize);
  return c < 0 ? std::strong_ordering::less
               : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
}

namespace {

// The points of small order on Curve25519 and their encodings >= p, as libsodium's X25519 blocklist
// (crypto_scalarmult/curve25519/ref10/x25519_ref10.c, has_small_order) lists them, little endian; the
// top bit is ignored as X25519 ignores it. keys/tests/key_test.cpp checks each against libsodium.
constexpr uint8_t kLowOrderPoints[7][Key::kSize] = {
    // 0 (order 4)
    {0},
    // 1 (order 1)
    {1},
    // order 8
    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
     0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
    // order 8
    {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
     0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
    // p - 1 (order 2)
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    // p (= 0)
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    // p + 1 (= 1)
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

}  // namespace

bool isLowOrderPublicKey(const Key& public_key) {
  const auto& p = public_key.bytes();
  for (const auto& point : kLowOrderPoints) {
    // Public keys are public: a plain comparison is fine.
    if (std::memcmp(p.data(), point, Key::kSize - 1) == 0 &&
        (p[Key::kSize - 1] & 0x7f) == point[Key::kSize - 1]) {
      return true;
    }
  }
  return false;
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

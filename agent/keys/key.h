// WireGuard keys (Curve25519, 32 bytes) and their strict text codecs.
// A Key wipes its bytes when destroyed and has no stream operator, so it cannot be logged by accident;
// only its public half should ever be formatted (toBase64) for a log line or an RPC.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/result.h"

namespace nwg {

class Key {
 public:
  static constexpr size_t kSize = 32;

  Key() = default;  // all zero: "no key" in WireGuard's preshared-key field
  explicit Key(const std::array<uint8_t, kSize>& bytes) : bytes_(bytes) {}
  Key(const Key& other) = default;
  Key& operator=(const Key& other) = default;
  // Inline: a 10,000-peer device makes and drops tens of thousands of keys; the barrier keeps the
  // compiler from dropping the wipe of a dying object.
  ~Key() {
    std::memset(bytes_.data(), 0, kSize);
    asm volatile("" : : "r"(bytes_.data()) : "memory");
  }

  // Exactly 44 characters of standard base64 with one '=' of padding and canonical trailing bits.
  // Both decoders run in time independent of the key's value (they also decode private keys).
  static Result<Key> fromBase64(std::string_view text);
  // Exactly 64 hex digits (either case), as the UAPI speaks.
  static Result<Key> fromHex(std::string_view text);

  std::string toBase64() const;
  std::string toHex() const;  // lower case
  // Appends the 64 lower-case hex digits to `out` (no temporary string to wipe).
  void appendHex(std::string& out) const;
  // Appends the 44 base64 characters to `out` (no temporary string to wipe; `out` should have the
  // room reserved, so that growing it leaves no copy behind).
  void appendBase64(std::string& out) const;

  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }
  bool isZero() const;

  // Constant-time equality (keys may be secrets): no early exit, whatever the bytes. For bulk
  // comparisons of public keys, PublicKeyEqual (wireguard/key_hash.h) is a plain memcmp.
  bool operator==(const Key& other) const {
    uint64_t diff = 0;
    for (size_t i = 0; i < kSize; i += 8) {
      uint64_t a, b;
      std::memcpy(&a, bytes_.data() + i, 8);
      std::memcpy(&b, other.bytes_.data() + i, 8);
      diff |= a ^ b;
      asm("" : "+r"(diff));  // opaque: the compiler cannot turn the loop into an early exit
    }
    return diff == 0;
  }
  // Ordering is only for containers.
  std::strong_ordering operator<=>(const Key& other) const;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

// True for a public key WireGuard must never peer with: a point of small order on Curve25519 (the
// all-zero key among them) or a non-canonical encoding of one. A handshake with such a peer gives an
// all-zero shared secret, which WireGuard refuses; the kernel and wireguard-go would accept the peer
// into their configuration all the same, so the agent and the driver refuse it first.
bool isLowOrderPublicKey(const Key& public_key);

// A fresh private key from the kernel's CSPRNG, clamped as wg(8) does.
Key generatePrivateKey();
// The public key of a private key (X25519 base-point multiplication).
Key publicKeyOf(const Key& private_key);
// Must run once before any other key function (libsodium initialisation); idempotent.
Status initCrypto();

}  // namespace nwg

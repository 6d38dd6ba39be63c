#include "keys/key.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <cctype>
#include <optional>
#include <string>

#include "keys/tests/sodium_reference.h"

namespace nwg {
namespace {

class KeyTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(initCrypto().ok()); }
};

// RFC 7748 section 6.1 test vector (Alice's key pair).
constexpr const char* kAlicePrivateHex = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr const char* kAlicePublicHex = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";

TEST_F(KeyTest, DerivesRfc7748PublicKey) {
  auto priv = Key::fromHex(kAlicePrivateHex);
  ASSERT_TRUE(priv.ok());
  EXPECT_EQ(publicKeyOf(*priv).toHex(), kAlicePublicHex);
}

TEST_F(KeyTest, Base64RoundTripMatchesWgTool) {
  // `echo <hex> | xxd -r -p | base64` of the RFC public key.
  auto pub = Key::fromHex(kAlicePublicHex);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->toBase64(), "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=");
  auto back = Key::fromBase64("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *pub);
}

TEST_F(KeyTest, Base64IsStrict) {
  const std::string good = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
  EXPECT_FALSE(Key::fromBase64(good.substr(0, 43)).ok());                              // short
  EXPECT_FALSE(Key::fromBase64(good + "=").ok());                                      // long
  EXPECT_FALSE(Key::fromBase64("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo_").ok());  // no pad
  EXPECT_FALSE(Key::fromBase64("hSDwCYkwp1R0i33ctD73Wg2-Og0mOBr066SpjqqbTmo=").ok());  // urlsafe
  EXPECT_FALSE(Key::fromBase64("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmp=").ok());  // trailing bits
  EXPECT_FALSE(Key::fromBase64("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbT==").ok());   // 31 bytes
  EXPECT_FALSE(Key::fromBase64("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066Sp qqbTmo=").ok());  // space
  EXPECT_NE(Key::fromBase64("abc").error().message.find("44 characters"), std::string::npos);
}

TEST_F(KeyTest, HexIsStrict) {
  EXPECT_TRUE(Key::fromHex(std::string(kAlicePublicHex)).ok());
  std::string upper = kAlicePublicHex;
  for (auto& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_EQ(*Key::fromHex(upper), *Key::fromHex(kAlicePublicHex));
  EXPECT_FALSE(Key::fromHex(std::string(kAlicePublicHex).substr(2)).ok());
  EXPECT_FALSE(Key::fromHex(std::string(63, 'a') + "g").ok());
  EXPECT_FALSE(Key::fromHex(std::string(kAlicePublicHex) + "00").ok());
}

TEST_F(KeyTest, GeneratedKeysAreClampedAndDistinct) {
  Key a = generatePrivateKey();
  Key b = generatePrivateKey();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.bytes()[0] & 7, 0);
  EXPECT_EQ(a.bytes()[31] & 0xc0, 0x40);
  EXPECT_FALSE(publicKeyOf(a).isZero());
  EXPECT_TRUE(Key().isZero());
}

// The decoders are our own (branch-free, table-free): they must accept exactly what libsodium's
// strict decoders accept, with the same bytes, on every character in every position.
TEST_F(KeyTest, HexDecoderAgreesWithLibsodiumOnEveryCharacterInEveryPosition) {
  for (int round = 0; round < 64; ++round) {
    Key k = generatePrivateKey();
    std::string text = k.toHex();
    ASSERT_EQ(text, std::string(Key::fromHex(text)->toHex()));
    const size_t pos = static_cast<size_t>(round);  // each of the 64 positions
    for (int c = 0; c < 256; ++c) {
      std::string probe = text;
      probe[pos] = static_cast<char>(c);
      auto ours = Key::fromHex(probe);
      auto theirs = testing::sodiumHexKey(probe);
      ASSERT_EQ(ours.ok(), theirs.has_value()) << "char " << c << " at " << pos;
      if (ours.ok()) {
        EXPECT_TRUE(ours->bytes() == *theirs) << "char " << c << " at " << pos;
      }
    }
  }
  std::string upper = generatePrivateKey().toHex();
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_TRUE(Key::fromHex(upper)->bytes() == *testing::sodiumHexKey(upper));
}

TEST_F(KeyTest, Base64DecoderAgreesWithLibsodiumOnEveryCharacterInEveryPosition) {
  for (size_t pos = 0; pos < 44; ++pos) {
    const std::string text = publicKeyOf(generatePrivateKey()).toBase64();
    for (int c = 0; c < 256; ++c) {
      std::string probe = text;
      probe[pos] = static_cast<char>(c);
      auto ours = Key::fromBase64(probe);
      auto theirs = testing::sodiumBase64Key(probe);
      ASSERT_EQ(ours.ok(), theirs.has_value()) << "char " << c << " at " << pos << ": " << probe;
      if (ours.ok()) {
        EXPECT_TRUE(ours->bytes() == *theirs) << "char " << c << " at " << pos;
      }
    }
  }
}

TEST_F(KeyTest, EncodersAgreeWithLibsodium) {
  for (int i = 0; i < 100; ++i) {
    Key k = generatePrivateKey();
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, k.bytes().data(), 32);
    EXPECT_EQ(k.toHex(), hex);
    std::string appended = "x=";
    k.appendHex(appended);
    EXPECT_EQ(appended, std::string("x=") + hex);
  }
}

// Each key isLowOrderPublicKey refuses is one libsodium's X25519 refuses too (its result would be
// all zero), with and without the ignored top bit; keys of real peers pass both.
TEST_F(KeyTest, LowOrderKeysAreTheOnesX25519Refuses) {
  const std::array<const char*, 7> low_order = {
      "0000000000000000000000000000000000000000000000000000000000000000",
      "0100000000000000000000000000000000000000000000000000000000000000",
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  };
  const Key scalar = generatePrivateKey();
  std::array<uint8_t, 32> shared{};
  for (const char* hex : low_order) {
    auto key = Key::fromHex(hex);
    ASSERT_TRUE(key.ok()) << hex;
    EXPECT_TRUE(isLowOrderPublicKey(*key)) << hex;
    EXPECT_NE(crypto_scalarmult_curve25519(shared.data(), scalar.bytes().data(), key->bytes().data()), 0)
        << hex;
    auto bytes = key->bytes();
    bytes[31] |= 0x80;
    const Key high(bytes);
    EXPECT_TRUE(isLowOrderPublicKey(high)) << hex << " with the top bit set";
    EXPECT_NE(crypto_scalarmult_curve25519(shared.data(), scalar.bytes().data(), high.bytes().data()), 0)
        << hex;
  }
  for (int i = 0; i < 200; ++i) {
    const Key peer = publicKeyOf(generatePrivateKey());
    EXPECT_FALSE(isLowOrderPublicKey(peer)) << peer.toBase64();
    EXPECT_EQ(crypto_scalarmult_curve25519(shared.data(), scalar.bytes().data(), peer.bytes().data()), 0);
  }
}

TEST_F(KeyTest, EqualityIsByValue) {
  Key a = generatePrivateKey();
  Key b = a;
  EXPECT_TRUE(a == b);
  for (size_t i = 0; i < 32; ++i) {
    auto bytes = a.bytes();
    bytes[i] ^= 0x80;
    EXPECT_FALSE(a == Key(bytes)) << "byte " << i;
  }
}

}  // namespace
}  // namespace nwg

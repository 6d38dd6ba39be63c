#include "keys/key.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace nwg

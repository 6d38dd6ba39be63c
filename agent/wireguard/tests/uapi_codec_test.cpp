// UAPI codec: golden request texts, strict decoding of get replies, errno replies.
#include "wireguard/uapi/uapi_codec.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace nwg::wg::uapi {
namespace {

// RFC 7748 section 6.1 key pairs.
constexpr const char* kAlicePriv = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr const char* kAlicePub = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
constexpr const char* kBobPub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
constexpr const char* kPsk = "1111111111111111111111111111111111111111111111111111111111111111";
const std::string kZero(64, '0');

class UapiCodecTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(initCrypto().ok()); }
  static Key hex(const char* h) { return Key::fromHex(h).value(); }
  static IpPrefix ip(const char* t) { return IpPrefix::parse(t).value(); }
};

TEST_F(UapiCodecTest, GetRequest) {
  EXPECT_EQ(encodeGetRequest(), "get=1\n\n");
}

TEST_F(UapiCodecTest, EmptyUpdateIsJustSet) {
  EXPECT_EQ(encodeSetRequest(Device{}), "set=1\n\n");
}

TEST_F(UapiCodecTest, FullUpdateGolden) {
  Device d;
  d.private_key = hex(kAlicePriv);
  d.listen_port = 51820;
  d.fwmark = 0;
  d.replace_peers = true;
  d.public_key = hex(kAlicePub);  // read-only: never sent
  Peer bob;
  bob.public_key = hex(kBobPub);
  bob.preshared_key = hex(kPsk);
  bob.endpoint = Endpoint::parse("[2001:db8::1]:51820").value();
  bob.persistent_keepalive = 25;
  bob.replace_allowed_ips = true;
  bob.allowed_ips = {ip("10.0.0.2/32"), ip("fd00::/64")};
  bob.stats.rx_bytes = 5;  // read-only: never sent
  d.peers = {bob};
  EXPECT_EQ(encodeSetRequest(d),
            std::string("set=1\n") + "private_key=" + kAlicePriv + "\nlisten_port=51820\nfwmark=0\n" +
                "replace_peers=true\npublic_key=" + kBobPub + "\npreshared_key=" + kPsk +
                "\nendpoint=[2001:db8::1]:51820\npersistent_keepalive_interval=25\nreplace_allowed_ips=true\n"
                "allowed_ip=10.0.0.2/32\nallowed_ip=fd00::/64\nprotocol_version=1\n\n");
}

TEST_F(UapiCodecTest, FlagsGolden) {
  Device d;
  Peer removed;
  removed.public_key = hex(kBobPub);
  removed.remove = true;
  removed.allowed_ips = {ip("10.0.0.2/32")};  // ignored for a removal
  Peer update_only;
  update_only.public_key = hex(kAlicePub);
  update_only.update_only = true;
  update_only.persistent_keepalive = 0;
  update_only.preshared_key = Key();
  d.peers = {removed, update_only};
  EXPECT_EQ(encodeSetRequest(d), std::string("set=1\npublic_key=") + kBobPub + "\nremove=true\npublic_key=" +
                                     kAlicePub + "\nupdate_only=true\npreshared_key=" + kZero +
                                     "\npersistent_keepalive_interval=0\nprotocol_version=1\n\n");
}

TEST_F(UapiCodecTest, DecodesWireguardGoReply) {
  // Shape of a real wireguard-go 0.0.20220316 reply (peer order is random there).
  std::string reply =
      std::string("private_key=") + kAlicePriv + "\nlisten_port=51820\npublic_key=" + kBobPub +
      "\npreshared_key=" + kZero +
      "\nprotocol_version=1\nendpoint=127.0.0.1:51999\nlast_handshake_time_sec=1700000000\n"
      "last_handshake_time_nsec=5\ntx_bytes=148\nrx_bytes=92\npersistent_keepalive_interval=25\n"
      "allowed_ip=10.9.0.22/32\nallowed_ip=fd00::/64\npublic_key=" +
      kPsk + "\npreshared_key=" + kPsk +
      "\nprotocol_version=1\nlast_handshake_time_sec=0\n"
      "last_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=0\n"
      "errno=0\n\n";
  auto d = decodeGetReply(reply);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(*d->private_key == hex(kAlicePriv));
  // Not in the UAPI, and deriving it is not the codec's job (UapiBackend::get does, once per key).
  EXPECT_FALSE(d->public_key.has_value());
  EXPECT_EQ(d->listen_port, 51820);
  EXPECT_EQ(d->fwmark, 0u);
  ASSERT_EQ(d->peers.size(), 2u);
  const Peer& b = d->peers[0];
  EXPECT_TRUE(b.public_key == hex(kBobPub));
  EXPECT_TRUE(b.preshared_key->isZero());
  EXPECT_EQ(b.endpoint->toString(), "127.0.0.1:51999");
  EXPECT_EQ(b.stats.last_handshake_sec, 1700000000);
  EXPECT_EQ(b.stats.last_handshake_nsec, 5);
  EXPECT_EQ(b.stats.tx_bytes, 148u);
  EXPECT_EQ(b.stats.rx_bytes, 92u);
  EXPECT_EQ(b.persistent_keepalive, 25);
  EXPECT_EQ(b.allowed_ips, (std::vector<IpPrefix>{ip("10.9.0.22/32"), ip("fd00::/64")}));
  const Peer& c = d->peers[1];
  EXPECT_TRUE(*c.preshared_key == hex(kPsk));
  EXPECT_FALSE(c.endpoint.has_value());
  EXPECT_TRUE(c.allowed_ips.empty());
}

TEST_F(UapiCodecTest, DecodesAFreshDevice) {
  auto d = decodeGetReply("listen_port=57607\nerrno=0\n\n");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_FALSE(d->private_key.has_value());
  EXPECT_FALSE(d->public_key.has_value());
  EXPECT_EQ(d->listen_port, 57607);
  EXPECT_TRUE(d->peers.empty());
  // After EADDRINUSE wireguard-go has no socket and prints no listen_port.
  auto no_socket = decodeGetReply("errno=0\n\n");
  ASSERT_TRUE(no_socket.ok());
  EXPECT_FALSE(no_socket->listen_port.has_value());
}

TEST_F(UapiCodecTest, FillsReadBackDefaultsAndFwmark) {
  auto d = decodeGetReply(std::string("fwmark=4660\npublic_key=") + kBobPub + "\nerrno=0\n\n");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->fwmark, 4660u);
  ASSERT_EQ(d->peers.size(), 1u);
  ASSERT_TRUE(d->peers[0].preshared_key.has_value());
  EXPECT_TRUE(d->peers[0].preshared_key->isZero());
  EXPECT_EQ(d->peers[0].persistent_keepalive, 0);
}

TEST_F(UapiCodecTest, ZeroPrivateKeyMeansNone) {
  auto d = decodeGetReply("private_key=" + kZero + "\nerrno=0\n\n");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->private_key.has_value());
  EXPECT_FALSE(d->public_key.has_value());
}

TEST_F(UapiCodecTest, CoalescesAPeerListedTwice) {
  std::string reply = std::string("public_key=") + kBobPub +
                      "\nallowed_ip=10.0.0.1/32\npersistent_keepalive_interval=5\n" +
                      "public_key=" + kAlicePub + "\nallowed_ip=10.0.0.9/32\n" + "public_key=" + kBobPub +
                      "\nallowed_ip=10.0.0.2/32\npersistent_keepalive_interval=5\nerrno=0\n\n";
  auto d = decodeGetReply(reply);
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->peers.size(), 2u);
  EXPECT_EQ(d->peers[0].allowed_ips, (std::vector<IpPrefix>{ip("10.0.0.1/32"), ip("10.0.0.2/32")}));
  EXPECT_EQ(d->peers[1].allowed_ips, std::vector<IpPrefix>{ip("10.0.0.9/32")});
  // A repeated field that disagrees is an error, not a silent choice.
  std::string conflict = std::string("public_key=") + kBobPub +
                         "\npersistent_keepalive_interval=5\npublic_key=" + kBobPub +
                         "\npersistent_keepalive_interval=6\nerrno=0\n\n";
  auto bad = decodeGetReply(conflict);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("conflicts"), std::string::npos) << bad.error().message;
}

TEST_F(UapiCodecTest, IgnoresUnknownKeys) {
  auto d = decodeGetReply(std::string("future_device_knob=3\npublic_key=") + kBobPub +
                          "\nfuture_peer_knob=x\nallowed_ip=10.0.0.1/32\nerrno=0\n\n");
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->peers.size(), 1u);
  EXPECT_EQ(d->peers[0].allowed_ips.size(), 1u);
}

// Known names are recognised whole: a name that only starts like one is unknown (and ignored).
TEST_F(UapiCodecTest, KeysThatStartLikeKnownOnesAreUnknown) {
  auto d = decodeGetReply(
      std::string("listen_port_v2=7\nprivate_keys=x\npublic_key=") + kBobPub +
      "\nallowed_ips=10.0.0.1/32\nallowed_ip_=x\nendpoints=x\nerrno_=1\nallowed_ip=10.0.0.2/32\n"
      "errno=0\n\n");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_FALSE(d->listen_port.has_value());
  ASSERT_EQ(d->peers.size(), 1u);
  EXPECT_EQ(d->peers[0].allowed_ips, std::vector<IpPrefix>{ip("10.0.0.2/32")});
}

// The reply ends at its first blank line, wherever it is: anything after it is an error that
// outranks every other (the rest was never part of the reply).
TEST_F(UapiCodecTest, ABlankLineInsideTheReplyIsItsEnd) {
  for (const std::string& text :
       {std::string("listen_port=1\n\nerrno=0\n\n"), std::string("errno=0\n\nerrno=-22\n\n"),
        std::string("nonsense\n\nerrno=0\n\n"), std::string("errno=0\n\n\n")}) {
    auto d = decodeGetReply(text);
    ASSERT_FALSE(d.ok()) << ::testing::PrintToString(text);
    EXPECT_NE(d.error().message.find("bytes after its end"), std::string::npos) << d.error().message;
  }
}

TEST_F(UapiCodecTest, SetRequestsWriteAddressesAsTheirTextForms) {
  Device d;
  Peer p;
  p.public_key = hex(kBobPub);
  p.allowed_ips = {ip("10.9.0.22/32"), ip("0.0.0.0/0"), ip("fd00::/64"), ip("2001:db8:0:1:2:3:4:5/128"),
                   ip("::/0")};
  d.peers = {p};
  std::string expected = "set=1\npublic_key=" + std::string(kBobPub) + "\n";
  for (const IpPrefix& a : p.allowed_ips) expected += "allowed_ip=" + a.toString() + "\n";
  expected += "protocol_version=1\n\n";
  EXPECT_EQ(encodeSetRequest(d), expected);
}

std::vector<std::string> malformedReplies() {
  const std::string peer = std::string("public_key=") + kBobPub + "\n";
  return {
      "",                                                // connection closed
      "errno=0\n",                                       // truncated
      "errno=0\n\nextra",                                // trailing bytes
      "listen_port=1\n",                                 // no errno, truncated
      "listen_port=1\n\n",                               // no errno
      "listen_port=70000\nerrno=0\n\n",                  // out of range
      "listen_port=0x10\nerrno=0\n\n",                   // not decimal
      "listen_port=-1\nerrno=0\n\n",                     // signed
      "listen_port=01\nerrno=0\n\n",                     // leading zero
      "listen_port=1\nlisten_port=2\nerrno=0\n\n",       // repeated
      "nonsense\nerrno=0\n\n",                           // not key=value
      "=3\nerrno=0\n\n",                                 // empty key
      "private_key=abc\nerrno=0\n\n",                    // short key
      "allowed_ip=10.0.0.1/32\nerrno=0\n\n",             // peer field without a peer
      peer + "listen_port=5\nerrno=0\n\n",               // device field inside a peer
      peer + "allowed_ip=10.0.0.1\nerrno=0\n\n",         // no prefix length
      peer + "allowed_ip=10.0.0.1/33\nerrno=0\n\n",      // bad length
      peer + "endpoint=example.com:51820\nerrno=0\n\n",  // hostname
      peer + "endpoint=[::1]\nerrno=0\n\n",              // no port
      peer + "protocol_version=2\nerrno=0\n\n",          // unknown protocol
      peer + "last_handshake_time_nsec=1000000000\nerrno=0\n\n",
      peer + "tx_bytes=18446744073709551616\nerrno=0\n\n",  // overflow
      peer + "persistent_keepalive_interval=65536\nerrno=0\n\n",
      "errno=0\nerrno=0\n\n",  // errno not last / twice
      "errno=x\n\n",
      "errno=-0\n\n",
      "errno=5\n\n",  // positive errno: not what wireguard-go sends
      "errno=0\r\n\n",
      "nonsense\nerrno=-5\n\n",       // the errno outranks the wrong line before it
      "errno=-5\nlisten_port=1\n\n",  // not last: no errno line at the end
      "listen_port=x\nerrno=0\nerrno=0\n\n",
  };
}

TEST_F(UapiCodecTest, RejectsMalformedReplies) {
  for (const std::string& text : malformedReplies()) {
    EXPECT_FALSE(decodeGetReply(text).ok()) << "accepted: " << ::testing::PrintToString(text);
  }
}

TEST_F(UapiCodecTest, ErrorsNeverQuoteSecrets) {
  std::string secret(63, 'a');
  auto d = decodeGetReply("private_key=" + secret + "z\nerrno=0\n\n");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message.find(secret), std::string::npos) << d.error().message;
  auto p =
      decodeGetReply(std::string("public_key=") + kBobPub + "\npreshared_key=" + secret + "z\nerrno=0\n\n");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message.find(secret), std::string::npos) << p.error().message;
}

TEST_F(UapiCodecTest, ErrnoRepliesBecomeErrors) {
  EXPECT_TRUE(decodeSetReply("errno=0\n\n").ok());
  auto in_use = decodeSetReply("errno=-98\n\n");
  ASSERT_FALSE(in_use.ok());
  EXPECT_EQ(in_use.error().code, EADDRINUSE);
  EXPECT_NE(in_use.error().message.find("listen port already in use"), std::string::npos);
  auto invalid = decodeSetReply("errno=-22\n\n");
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, EINVAL);
  EXPECT_EQ(decodeSetReply("errno=-71\n\n").error().code, EPROTO);
  EXPECT_EQ(decodeGetReply("errno=-5\n\n").error().code, EIO);
  EXPECT_FALSE(decodeSetReply("").ok());
  EXPECT_FALSE(decodeSetReply("errno=0\n").ok());
  EXPECT_FALSE(decodeSetReply("listen_port=1\nerrno=0\n\n").ok());
}

TEST_F(UapiCodecTest, EncodedUpdateOfAReadBackDeviceDecodesConsistently) {
  // What we send is what the same text would mean if read back (shared field syntax).
  Device d;
  d.private_key = hex(kAlicePriv);
  d.listen_port = 1;
  Peer p;
  p.public_key = hex(kBobPub);
  p.preshared_key = hex(kPsk);
  p.endpoint = Endpoint::parse("198.51.100.7:65535").value();
  p.persistent_keepalive = 65535;
  p.allowed_ips = {ip("0.0.0.0/0"), ip("::/0")};
  d.peers = {p};
  std::string text = encodeSetRequest(d);
  std::string as_reply = text.substr(6, text.size() - 7) + "errno=0\n\n";  // drop set=1 and blank line
  auto back = decodeGetReply(as_reply);
  ASSERT_TRUE(back.ok()) << back.error().message;
  back->public_key.reset();
  back->fwmark.reset();
  EXPECT_EQ(*back, d);
}

// The decoder as UapiBackend::get feeds it: the reply in pieces of `piece` bytes, as they come off the
// socket, stopping where the decoder says the reply ended.
Result<Device> decodeInPieces(const std::string& text, size_t piece) {
  GetReplyDecoder decoder;
  for (size_t at = 0; at < text.size(); at += piece) {
    const std::string_view part = std::string_view(text).substr(at, piece);
    const size_t taken = decoder.feed(part);
    if (taken < part.size() || decoder.complete()) {
      const size_t after = text.size() - at - taken;
      if (after > 0) return fail("UAPI reply has ", after, " bytes after its end");
      break;
    }
  }
  return std::move(decoder).finish();
}

// Decoded whole or in pieces of any size, a reply gives the same device or the same error: a line
// split between two reads (a private key's included) is read as one.
TEST_F(UapiCodecTest, AnySplitOfAReplyDecodesTheSame) {
  const std::string two_peers =
      std::string("private_key=") + kAlicePriv + "\nlisten_port=51820\nfwmark=0\npublic_key=" + kBobPub +
      "\npreshared_key=" + kPsk +
      "\nendpoint=[2001:db8::1]:51820\nlast_handshake_time_sec=1700000000\n"
      "last_handshake_time_nsec=5\ntx_bytes=10\nrx_bytes=20\npersistent_keepalive_interval=25\n"
      "allowed_ip=10.0.0.2/32\nallowed_ip=fd00::2/128\nprotocol_version=1\npublic_key=" +
      kAlicePub + "\nallowed_ip=10.0.0.3/32\nfuture_peer_knob=1\nerrno=0\n\n";
  std::vector<std::string> replies = malformedReplies();
  replies.push_back(two_peers);
  replies.push_back("errno=0\n\n");
  replies.push_back("\n");
  for (const std::string& text : replies) {
    const Result<Device> whole = decodeGetReply(text);
    for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}, text.size() + 1}) {
      const Result<Device> pieces = decodeInPieces(text, piece);
      ASSERT_EQ(pieces.ok(), whole.ok()) << ::testing::PrintToString(text) << " in pieces of " << piece;
      if (whole.ok()) {
        EXPECT_EQ(*pieces, *whole) << ::testing::PrintToString(text) << " in pieces of " << piece;
      } else {
        EXPECT_EQ(pieces.error().message, whole.error().message) << "in pieces of " << piece;
        EXPECT_EQ(pieces.error().code, whole.error().code) << "in pieces of " << piece;
      }
    }
  }
  auto full = decodeGetReply(two_peers);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->peers.size(), 2u);
}

// What outranks what, decoded whole (the split test above holds the pieces to the same).
TEST_F(UapiCodecTest, ErrorsComeInTheOrderOfTheirPrecedence) {
  EXPECT_EQ(decodeGetReply("nonsense\nerrno=-5\n\n").error().code, EIO);
  EXPECT_NE(
      decodeGetReply("errno=-5\nlisten_port=1\n\n").error().message.find("does not end with an errno line"),
      std::string::npos);
  EXPECT_NE(
      decodeGetReply("listen_port=x\nerrno=0\nerrno=0\n\n").error().message.find("line 1 (listen_port)"),
      std::string::npos);
  EXPECT_NE(
      decodeGetReply("errno=0\nerrno=0\n\n").error().message.find("line 1 (errno): errno before the end"),
      std::string::npos);
  EXPECT_NE(decodeGetReply("errno=0\n").error().message.find("truncated"), std::string::npos);
  EXPECT_NE(decodeGetReply("").error().message.find("empty UAPI reply"), std::string::npos);
}

}  // namespace
}  // namespace nwg::wg::uapi

// Unit tests of the pure netlink layer: the bounded builder, policy-checked attribute parsing, reply
// decoding (NLMSG_ERROR with extended ack, dumps, sequence and port checks) and rtnetlink codecs.
#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "netlink/attributes.h"
#include "netlink/message_builder.h"
#include "netlink/reply.h"
#include "netlink/rtnetlink_codec.h"

namespace nwg::netlink {
namespace {

using ByteVec = std::vector<uint8_t>;

ByteVec hex(const std::string& text) {
  ByteVec out;
  std::string digits;
  for (char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
  }
  for (size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Builds a reply datagram the way the kernel would.
struct ReplyBuilder {
  ByteVec bytes;
  void message(uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid, const ByteVec& payload) {
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(kMessageHeaderLen + payload.size());
    h.nlmsg_type = type;
    h.nlmsg_flags = flags;
    h.nlmsg_seq = seq;
    h.nlmsg_pid = pid;
    const size_t at = bytes.size();
    bytes.resize(at + align4(h.nlmsg_len), 0);
    std::memcpy(bytes.data() + at, &h, sizeof h);
    if (!payload.empty()) std::memcpy(bytes.data() + at + kMessageHeaderLen, payload.data(), payload.size());
  }
};

ByteVec attr(uint16_t type, const ByteVec& value) {
  ByteVec out(align4(kAttrHeaderLen + value.size()), 0);
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(kAttrHeaderLen + value.size());
  a.nla_type = type;
  std::memcpy(out.data(), &a, sizeof a);
  if (!value.empty()) std::memcpy(out.data() + kAttrHeaderLen, value.data(), value.size());
  return out;
}

ByteVec concat(std::initializer_list<ByteVec> parts) {
  ByteVec out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

template <typename T>
ByteVec pod(const T& value) {
  ByteVec out(sizeof value);
  std::memcpy(out.data(), &value, sizeof value);
  return out;
}

ByteVec errorPayload(int32_t error, uint16_t type, const ByteVec& tlvs = {}) {
  nlmsgerr e{};
  e.error = error;
  e.msg.nlmsg_len = kMessageHeaderLen;
  e.msg.nlmsg_type = type;
  return concat({pod(e), tlvs});
}

ByteVec str0(const std::string& s) {
  ByteVec out(s.begin(), s.end());
  out.push_back(0);
  return out;
}

TEST(MessageBuilder, GoldenCreateLinkRequest) {
  const ByteVec expected =
      hex("3c000000 1000 0106 00000000 00000000"  // nlmsghdr: len 60, RTM_NEWLINK, REQUEST|EXCL|CREATE
          "00000000 00000000 00000000 00000000"   // ifinfomsg
          "0800 0300 77673000"                    // IFLA_IFNAME "wg0"
          "1400 1280 0e00 0100 77697265677561726400 0000");  // IFLA_LINKINFO{IFLA_INFO_KIND "wireguard"}
  EXPECT_EQ(rtnl::createLinkRequest("wg0", "wireguard"), expected);
}

TEST(MessageBuilder, GoldenLinkQueriesSkipStatistics) {
  EXPECT_EQ(rtnl::dumpLinksRequest(), hex("28000000 1200 0100 00000000 00000000"  // RTM_GETLINK, REQUEST
                                          "00000000 00000000 00000000 00000000"   // ifinfomsg
                                          "0800 1d00 08000000"));  // IFLA_EXT_MASK = RTEXT_FILTER_SKIP_STATS
  EXPECT_EQ(rtnl::getLinkRequest("wg0"), hex("30000000 1200 0100 00000000 00000000"
                                             "00000000 00000000 00000000 00000000"
                                             "0800 0300 77673000"  // IFLA_IFNAME "wg0"
                                             "0800 1d00 08000000"));
}

TEST(MessageBuilder, GoldenAddressAndMoveRequests) {
  EXPECT_EQ(rtnl::addAddressRequest(7, *IpPrefix::parse("10.1.2.3/24")),
            hex("28000000 1400 0105 00000000 00000000"  // RTM_NEWADDR, REQUEST|REPLACE|CREATE
                "02 18 00 00 07000000"                  // AF_INET /24 index 7
                "0800 0200 0a010203"                    // IFA_LOCAL
                "0800 0100 0a010203"));                 // IFA_ADDRESS
  // IFA_F_NODAD in ifa_flags: an IPv6 address usable at once, without duplicate address detection.
  EXPECT_EQ(rtnl::addAddressRequest(7, *IpPrefix::parse("fd00::3/128"), IFA_F_NODAD),
            hex("2c000000 1400 0105 00000000 00000000"              // RTM_NEWADDR, REQUEST|REPLACE|CREATE
                "0a 80 02 00 07000000"                              // AF_INET6 /128 IFA_F_NODAD index 7
                "1400 0100 fd000000 00000000 00000000 00000003"));  // IFA_ADDRESS
  EXPECT_EQ(rtnl::moveRequest(3, 9), hex("28000000 1000 0100 00000000 00000000"
                                         "00000000 03000000 00000000 00000000"
                                         "0800 1c00 09000000"));  // IFLA_NET_NS_FD = 9
  EXPECT_EQ(rtnl::setUpRequest(3, true), hex("20000000 1000 0100 00000000 00000000"
                                             "00000000 03000000 01000000 01000000"));
}

TEST(MessageBuilder, GoldenAliasRequests) {
  // As iproute2's `ip link set X alias ab`: the bytes without a NUL, which the kernel stores as given.
  EXPECT_EQ(*rtnl::setAliasRequest(3, "ab"), hex("28000000 1000 0100 00000000 00000000"  // RTM_NEWLINK
                                                 "00000000 03000000 00000000 00000000"   // ifinfomsg, index 3
                                                 "0600 1400 6162 0000"));                // IFLA_IFALIAS "ab"
  // An empty IFLA_IFALIAS clears the alias.
  EXPECT_EQ(*rtnl::setAliasRequest(3, ""), hex("24000000 1000 0100 00000000 00000000"
                                               "00000000 03000000 00000000 00000000"
                                               "0400 1400"));
  // Whoever calls it, an alias the kernel would not take is an error, not a bad message.
  EXPECT_FALSE(rtnl::setAliasRequest(3, std::string(300, 'a')).ok());
}

TEST(MessageBuilder, RefusesWhatDoesNotFitAndRollsBack) {
  MessageBuilder b(RTM_NEWLINK, 0, 64);
  ifinfomsg ifi{};
  ASSERT_TRUE(b.putHeader(ifi));  // 32 bytes used
  EXPECT_TRUE(b.putU32(1, 5));    // 40
  const size_t mark = b.mark();
  EXPECT_FALSE(b.put(2, std::string(40, 'x').data(), 40));  // would need 44
  EXPECT_EQ(b.size(), mark);
  {
    auto nest = b.nest(3);
    ASSERT_TRUE(nest.ok());
    EXPECT_TRUE(b.putU64(1, 7));  // 44 + 12 = 56
    EXPECT_FALSE(b.putU64(2, 8));
    nest.cancel();
  }
  EXPECT_EQ(b.size(), mark);
  uint32_t len = 0;
  std::memcpy(&len, b.bytes().data(), 4);
  EXPECT_EQ(len, mark);
  EXPECT_EQ(b.room(), 64u - mark - kAttrHeaderLen);
}

TEST(MessageBuilder, NestLengthCoversItsContent) {
  MessageBuilder b(1, 0, 256);
  {
    auto outer = b.nest(5);
    auto inner = b.nest(1);
    ASSERT_TRUE(b.putU16(2, 0x1234));
  }
  EXPECT_EQ(b.bytes(), hex("20000000 0100 0100 00000000 00000000"
                           "1000 0580 0c00 0180 0600 0200 3412 0000"));
}

const AttrRule kPolicy[] = {
    {}, {AttrKind::kU32}, {AttrKind::kString, 1, 4}, {AttrKind::kBinary, 4, 16}, {AttrKind::kNested}};

TEST(Attrs, ValidatesEveryKnownAttribute) {
  const ByteVec bytes = concat({attr(1, pod(uint32_t{42})), attr(2, str0("ab")), attr(9, {1, 2, 3})});
  auto ok = Attrs::parse(bytes, kPolicy, "test");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->get(1)->u32(), 42u);
  EXPECT_EQ(ok->get(2)->str(), "ab");
  EXPECT_FALSE(ok->has(3));
  EXPECT_FALSE(ok->has(9));  // unknown: skipped

  EXPECT_FALSE(Attrs::parse(attr(1, {1, 2}), kPolicy, "test").ok());         // short u32
  EXPECT_FALSE(Attrs::parse(attr(2, str0("abcde")), kPolicy, "test").ok());  // string too long
  EXPECT_FALSE(Attrs::parse(attr(3, {1, 2, 3}), kPolicy, "test").ok());      // binary too short
  ByteVec broken = attr(1, pod(uint32_t{1}));
  broken[0] = 200;  // nla_len beyond the bytes
  auto bad = Attrs::parse(broken, kPolicy, "peer");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("peer"), std::string::npos);
  EXPECT_FALSE(Attrs::parse(ByteVec{1, 0}, kPolicy, "test").ok());  // truncated header
}

TEST(Reply, AckErrorWithExtendedAckText) {
  ReplyBuilder r;
  r.message(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 5, 77,
            errorPayload(-EOPNOTSUPP, RTM_NEWLINK,
                         concat({attr(NLMSGERR_ATTR_MSG, str0("Unknown device type")),
                                 attr(NLMSGERR_ATTR_OFFS, pod(uint32_t{36}))})));
  ReplyCollector c(ReplyCollector::Mode::kAck, 5, 77);
  Status s = c.feed(r.bytes);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, EOPNOTSUPP);
  EXPECT_NE(s.error().message.find("Unknown device type"), std::string::npos) << s.error().message;
  EXPECT_TRUE(c.done());
}

TEST(Reply, UncappedErrorSkipsTheEchoedRequest) {
  nlmsgerr e{};
  e.error = -EEXIST;
  e.msg.nlmsg_len = kMessageHeaderLen + 8;  // the echoed request carries 8 payload bytes
  ByteVec payload = concat({pod(e), ByteVec(8, 0xee), attr(NLMSGERR_ATTR_MSG, str0("exists"))});
  ReplyBuilder r;
  r.message(NLMSG_ERROR, NLM_F_ACK_TLVS, 1, 9, payload);
  auto messages = splitMessages(r.bytes);
  ASSERT_TRUE(messages.ok());
  auto status = parseKernelStatus(messages->front());
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(status->error, EEXIST);
  EXPECT_EQ(status->ext_ack, "exists");
}

TEST(Reply, ShortErrorMessageIsRejectedNotRead) {
  ReplyBuilder r;
  r.message(NLMSG_ERROR, 0, 1, 9, ByteVec{0xfe, 0xff, 0xff, 0xff});  // 4 bytes, less than nlmsgerr
  ReplyCollector c(ReplyCollector::Mode::kAck, 1, 9);
  Status s = c.feed(r.bytes);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("NLMSG_ERROR"), std::string::npos);
}

TEST(Reply, AckSucceeds) {
  ReplyBuilder r;
  r.message(NLMSG_ERROR, NLM_F_CAPPED, 3, 9, errorPayload(0, RTM_NEWLINK));
  ReplyCollector c(ReplyCollector::Mode::kAck, 3, 9);
  ASSERT_TRUE(c.feed(r.bytes).ok());
  EXPECT_TRUE(c.done());
}

TEST(Reply, DumpCollectsSkipsStaleAndRejectsForeignPorts) {
  ReplyBuilder first;
  first.message(RTM_NEWLINK, NLM_F_MULTI, 2, 9, ByteVec(16, 0));  // stale: an earlier request
  first.message(RTM_NEWLINK, NLM_F_MULTI, 3, 9, ByteVec(16, 1));
  ReplyBuilder second;
  second.message(RTM_NEWLINK, NLM_F_MULTI, 3, 9, ByteVec(16, 2));
  second.message(NLMSG_DONE, NLM_F_MULTI, 3, 9, pod(int32_t{0}));
  ReplyCollector c(ReplyCollector::Mode::kDump, 3, 9);
  ASSERT_TRUE(c.feed(first.bytes).ok());
  EXPECT_FALSE(c.done());
  ASSERT_TRUE(c.feed(second.bytes).ok());
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.interrupted());
  EXPECT_EQ(c.skipped(), 1u);
  ASSERT_EQ(c.messages().size(), 2u);
  EXPECT_EQ(c.messages()[1][kMessageHeaderLen], 2);

  ReplyBuilder foreign;
  foreign.message(RTM_NEWLINK, NLM_F_MULTI, 3, 10, ByteVec(16, 0));
  ReplyCollector d(ReplyCollector::Mode::kDump, 3, 9);
  EXPECT_FALSE(d.feed(foreign.bytes).ok());
}

TEST(Reply, DumpInterruptedAndDumpError) {
  ReplyBuilder r;
  r.message(RTM_NEWLINK, NLM_F_MULTI | NLM_F_DUMP_INTR, 4, 9, ByteVec(16, 0));
  r.message(NLMSG_DONE, NLM_F_MULTI | NLM_F_DUMP_INTR, 4, 9, pod(int32_t{0}));
  ReplyCollector c(ReplyCollector::Mode::kDump, 4, 9);
  ASSERT_TRUE(c.feed(r.bytes).ok());
  EXPECT_TRUE(c.interrupted());

  ReplyBuilder e;
  e.message(NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS, 4, 9,
            concat({pod(int32_t{-ENODEV}), attr(NLMSGERR_ATTR_MSG, str0("no device"))}));
  ReplyCollector d(ReplyCollector::Mode::kDump, 4, 9);
  Status s = d.feed(e.bytes);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ENODEV);
  EXPECT_NE(s.error().message.find("no device"), std::string::npos);
}

TEST(Reply, MalformedDatagramsAreErrors) {
  EXPECT_FALSE(splitMessages(ByteVec(10, 0)).ok());
  ReplyBuilder r;
  r.message(RTM_NEWLINK, 0, 1, 1, ByteVec(4, 0));
  r.bytes[0] = 0xff;  // nlmsg_len beyond the datagram
  EXPECT_FALSE(splitMessages(r.bytes).ok());
  ReplyBuilder e;
  e.message(NLMSG_ERROR, 0, 1, 1, errorPayload(5, 0));  // positive error codes do not exist
  ReplyCollector c(ReplyCollector::Mode::kAck, 1, 1);
  EXPECT_FALSE(c.feed(e.bytes).ok());
}

TEST(Rtnetlink, DecodesALinkWithKind) {
  ifinfomsg ifi{};
  ifi.ifi_index = 12;
  ifi.ifi_flags = 0x1;  // IFF_UP
  ByteVec payload = concat({pod(ifi), attr(IFLA_IFNAME, str0("wg-abc")), attr(IFLA_MTU, pod(uint32_t{1420})),
                            attr(IFLA_LINKINFO | NLA_F_NESTED, attr(IFLA_INFO_KIND, str0("wireguard")))});
  ReplyBuilder r;
  r.message(RTM_NEWLINK, 0, 1, 1, payload);
  auto link = rtnl::decodeLink(splitMessages(r.bytes)->front());
  ASSERT_TRUE(link.ok()) << link.error().message;
  EXPECT_EQ(*link, (LinkInfo{"wg-abc", 12, "wireguard", true, 1420}));  // no IFLA_IFALIAS: no alias

  ReplyBuilder bad;
  bad.message(RTM_NEWLINK, 0, 1, 1, concat({pod(ifi), attr(IFLA_MTU, ByteVec{1, 2})}));
  EXPECT_FALSE(rtnl::decodeLink(splitMessages(bad.bytes)->front()).ok());
  ReplyBuilder nameless;
  nameless.message(RTM_NEWLINK, 0, 1, 1, pod(ifi));
  EXPECT_FALSE(rtnl::decodeLink(splitMessages(nameless.bytes)->front()).ok());
}

TEST(Rtnetlink, DecodesALinksAlias) {
  // An RTM_NEWLINK shaped as the kernel sends it (its attribute order, NUL-terminated strings, no
  // statistics), trimmed to the attributes we read.
  const ByteVec golden =
      hex("64000000 1000 0200 01000000 01000000"        // nlmsghdr: len 100, RTM_NEWLINK, NLM_F_MULTI
          "00000000 07000000 01000000 00000000"         // ifinfomsg: index 7, IFF_UP
          "0e00 0300 77672d616263646566 00 0000"        // IFLA_IFNAME "wg-abcdef"
          "0800 0400 8c050000"                          // IFLA_MTU 1420
          "2000 1400 6e6574776f726b696e672d7769726567"  // IFLA_IFALIAS "networking-wireguard:node-1"
          "756172643a6e6f64652d31 00"
          "0c00 1280 0800 0100 74756e00");  // IFLA_LINKINFO{IFLA_INFO_KIND "tun"}
  auto messages = splitMessages(golden);
  ASSERT_TRUE(messages.ok()) << messages.error().message;
  ASSERT_EQ(messages->size(), 1u);
  auto link = rtnl::decodeLink(messages->front());
  ASSERT_TRUE(link.ok()) << link.error().message;
  EXPECT_EQ(*link, (LinkInfo{"wg-abcdef", 7, "tun", true, 1420, "networking-wireguard:node-1"}));

  ifinfomsg ifi{};
  ifi.ifi_index = 8;
  auto decode = [&](const ByteVec& alias) {
    ReplyBuilder r;
    r.message(RTM_NEWLINK, 0, 1, 1,
              concat({pod(ifi), attr(IFLA_IFNAME, str0("wg-x")), attr(IFLA_IFALIAS, alias)}));
    return rtnl::decodeLink(splitMessages(r.bytes)->front());
  };
  EXPECT_EQ(decode(ByteVec{'a', 'b'})->alias, "ab");  // without a NUL
  EXPECT_EQ(decode(ByteVec{})->alias, "");
  EXPECT_EQ(decode(str0(std::string(255, 'x')))->alias, std::string(255, 'x'));
  EXPECT_FALSE(decode(str0(std::string(256, 'x'))).ok());  // longer than the kernel ever stores
}

TEST(Rtnetlink, AliasValidation) {
  EXPECT_TRUE(rtnl::validateAlias("").ok());
  EXPECT_TRUE(rtnl::validateAlias("networking-wireguard:node-1").ok());
  EXPECT_TRUE(rtnl::validateAlias(std::string(255, 'x')).ok());
  EXPECT_EQ(rtnl::validateAlias(std::string(256, 'x')).error().code, EINVAL);
  EXPECT_EQ(rtnl::validateAlias(std::string("a\0b", 3)).error().code, EINVAL);
}

TEST(Rtnetlink, DecodesAddressesOfBothFamilies) {
  ifaddrmsg v4{};
  v4.ifa_family = AF_INET;
  v4.ifa_prefixlen = 24;
  v4.ifa_index = 3;
  ReplyBuilder r;
  // Point-to-point style: IFA_ADDRESS is the peer, IFA_LOCAL ours.
  r.message(RTM_NEWADDR, 0, 1, 1,
            concat({pod(v4), attr(IFA_ADDRESS, {10, 0, 0, 9}), attr(IFA_LOCAL, {10, 0, 0, 1})}));
  ifaddrmsg v6{};
  v6.ifa_family = AF_INET6;
  v6.ifa_prefixlen = 64;
  v6.ifa_index = 3;
  ByteVec a6(16, 0);
  a6[0] = 0xfd;
  a6[15] = 1;
  // IFA_FLAGS (all 32 bits) says it is tentative: DAD still holds it.
  r.message(RTM_NEWADDR, 0, 1, 1, concat({pod(v6), attr(IFA_ADDRESS, a6), attr(IFA_FLAGS, {0x40, 0, 0, 0})}));
  auto messages = splitMessages(r.bytes);
  ASSERT_TRUE(messages.ok());
  auto first = rtnl::decodeAddress((*messages)[0]);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->prefix, *IpPrefix::parse("10.0.0.1/24"));
  EXPECT_EQ((*first)->index, 3);
  auto second = rtnl::decodeAddress((*messages)[1]);
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->prefix, *IpPrefix::parse("fd00::1/64"));
  EXPECT_EQ((*second)->flags, uint32_t{IFA_F_TENTATIVE});
  EXPECT_EQ((*first)->flags, 0u);

  ReplyBuilder bad;
  v4.ifa_prefixlen = 33;
  bad.message(RTM_NEWADDR, 0, 1, 1, concat({pod(v4), attr(IFA_LOCAL, {10, 0, 0, 1})}));
  EXPECT_FALSE(rtnl::decodeAddress(splitMessages(bad.bytes)->front()).ok());
  ReplyBuilder wrong_size;
  v4.ifa_prefixlen = 8;
  wrong_size.message(RTM_NEWADDR, 0, 1, 1, concat({pod(v4), attr(IFA_LOCAL, a6)}));
  EXPECT_FALSE(rtnl::decodeAddress(splitMessages(wrong_size.bytes)->front()).ok());
}

TEST(Rtnetlink, LinkNames) {
  EXPECT_TRUE(rtnl::validateLinkName("wg-0123456789a").ok());
  EXPECT_TRUE(rtnl::validateLinkName("wg-0123456789ab").ok());
  EXPECT_EQ(rtnl::validateLinkName("wg-0123456789abc").error().code, EINVAL);
  EXPECT_FALSE(rtnl::validateLinkName("").ok());
  EXPECT_FALSE(rtnl::validateLinkName("a b").ok());
  EXPECT_FALSE(rtnl::validateLinkName("..").ok());
}

}  // namespace
}  // namespace nwg::netlink

// Generic netlink family resolution (see genl_family.h).
#include "wireguard/genl/genl_family.h"

#include <linux/genetlink.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "netlink/attributes.h"
#include "netlink/message_builder.h"

namespace nwg::wg::genl {

namespace {

const std::array<netlink::AttrRule, CTRL_ATTR_MAX + 1> kFamilyPolicy = [] {
  std::array<netlink::AttrRule, CTRL_ATTR_MAX + 1> p{};
  p[CTRL_ATTR_FAMILY_ID] = {netlink::AttrKind::kU16};
  p[CTRL_ATTR_FAMILY_NAME] = {netlink::AttrKind::kString, 1, GENL_NAMSIZ - 1};
  return p;
}();

}  // namespace

std::vector<uint8_t> familyRequest(const std::string& name) {
  netlink::MessageBuilder b(GENL_ID_CTRL, 0, 256);
  genlmsghdr g{};
  g.cmd = CTRL_CMD_GETFAMILY;
  g.version = 1;
  bool fits = b.putHeader(g) && b.putString(CTRL_ATTR_FAMILY_NAME, name.substr(0, GENL_NAMSIZ - 1));
  (void)fits;  // 256 bytes always hold a header and a name of at most 15 characters
  return std::move(b).take();
}

Result<uint16_t> decodeFamilyId(const netlink::Message& message, const std::string& name) {
  if (message.type != GENL_ID_CTRL) return fail("genl family reply: unexpected type ", message.type);
  if (message.payload.size() < sizeof(genlmsghdr)) return fail("genl family reply: shorter than genlmsghdr");
  NWG_ASSIGN_OR_RETURN(auto attrs,
                       netlink::Attrs::parse(message.payload.subspan(netlink::align4(sizeof(genlmsghdr))),
                                             kFamilyPolicy, "genl family reply"));
  const netlink::Attr* id = attrs.get(CTRL_ATTR_FAMILY_ID);
  const netlink::Attr* got = attrs.get(CTRL_ATTR_FAMILY_NAME);
  if (id == nullptr || got == nullptr) return fail("genl family reply: no family id or name");
  if (got->str() != name) return fail("genl family reply: asked for ", name, ", got ", got->str());
  if (id->u16() == 0) return fail("genl family reply: family ", name, " has id 0");
  return id->u16();
}

Result<uint16_t> resolveFamily(netlink::NetlinkSocket& socket, const std::string& name) {
  std::vector<std::vector<uint8_t>> replies;
  Status s = socket.request(familyRequest(name), &replies);
  if (!s.ok()) return std::move(s).error().context(str("generic netlink family ", name));
  for (const auto& bytes : replies) {
    NWG_ASSIGN_OR_RETURN(auto message, netlink::messageOf(bytes));
    return decodeFamilyId(message, name);
  }
  return Error(str("generic netlink family ", name, ": no reply"), ENOENT);
}

}  // namespace nwg::wg::genl

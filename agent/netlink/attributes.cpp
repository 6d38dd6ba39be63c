// Policy-checked netlink attribute parsing (see attributes.h).
#include "netlink/attributes.h"

#include <linux/netlink.h>

namespace nwg::netlink {

std::string_view Attr::str() const {
  const auto* chars = reinterpret_cast<const char*>(payload_.data());
  size_t len = 0;
  while (len < payload_.size() && chars[len] != '\0') ++len;
  return {chars, len};
}

Result<std::vector<Attr>> splitAttributes(Bytes bytes, std::string_view what) {
  std::vector<Attr> out;
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < kAttrHeaderLen) {
      return fail(what, ": truncated attribute header at offset ", at);
    }
    nlattr header{};
    std::memcpy(&header, bytes.data() + at, sizeof header);
    if (header.nla_len < kAttrHeaderLen || header.nla_len > bytes.size() - at) {
      return fail(what, ": attribute of type ", header.nla_type & NLA_TYPE_MASK, " has bad length ",
                  header.nla_len, " at offset ", at);
    }
    out.emplace_back(static_cast<uint16_t>(header.nla_type & NLA_TYPE_MASK),
                     bytes.subspan(at + kAttrHeaderLen, header.nla_len - kAttrHeaderLen));
    const size_t next = at + align4(header.nla_len);
    at = next > bytes.size() ? bytes.size() : next;
  }
  return out;
}

namespace {

Status check(const Attr& attr, const AttrRule& rule, std::string_view what) {
  const size_t len = attr.payload().size();
  auto bad = [&](auto... expected) {
    return fail(what, ": attribute ", attr.type(), " has length ", len, ", expected ", expected...);
  };
  switch (rule.kind) {
    case AttrKind::kUnknown:
      return okStatus();
    case AttrKind::kU8:
      return len == 1 ? okStatus() : Status(bad("1"));
    case AttrKind::kU16:
      return len == 2 ? okStatus() : Status(bad("2"));
    case AttrKind::kU32:
      return len == 4 ? okStatus() : Status(bad("4"));
    case AttrKind::kU64:
      return len == 8 ? okStatus() : Status(bad("8"));
    case AttrKind::kFlag:
      return len == 0 ? okStatus() : Status(bad("0"));
    case AttrKind::kNested:
      return okStatus();  // its content is validated when it is parsed
    case AttrKind::kBinary:
      if (len < rule.min_len || len > rule.max_len) return bad(rule.min_len, "..", rule.max_len);
      return okStatus();
    case AttrKind::kString:
      if (attr.str().size() < rule.min_len || attr.str().size() > rule.max_len) {
        return fail(what, ": string attribute ", attr.type(), " is ", attr.str().size(),
                    " characters, expected ", rule.min_len, "..", rule.max_len);
      }
      return okStatus();
  }
  return fail(what, ": attribute ", attr.type(), " has an unknown rule");
}

}  // namespace

Result<Attrs> Attrs::parse(Bytes bytes, AttrPolicy policy, std::string_view what) {
  NWG_ASSIGN_OR_RETURN(auto list, splitAttributes(bytes, what));
  Attrs attrs;
  attrs.by_type_.resize(policy.size());
  for (const Attr& attr : list) {
    if (attr.type() >= policy.size() || policy[attr.type()].kind == AttrKind::kUnknown) continue;
    NWG_RETURN_IF_ERROR(check(attr, policy[attr.type()], what));
    attrs.by_type_[attr.type()] = attr;
  }
  return attrs;
}

const Attr* Attrs::get(uint16_t type) const {
  if (type >= by_type_.size() || !by_type_[type]) return nullptr;
  return &*by_type_[type];
}

}  // namespace nwg::netlink

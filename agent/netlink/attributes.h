// Attribute parsing for netlink payloads: every attribute is checked against a policy table (kind and
// length) before anyone reads it, so decoders never touch bytes whose shape they did not verify.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace nwg::netlink {

using Bytes = std::span<const uint8_t>;

// The uapi macros (NLA_ALIGN, NLMSG_HDRLEN, ...) mix int and size_t; these are their unsigned twins.
constexpr size_t kAttrHeaderLen = 4;      // sizeof(nlattr)
constexpr size_t kMessageHeaderLen = 16;  // sizeof(nlmsghdr)
constexpr size_t align4(size_t n) {
  return (n + 3) & ~size_t{3};
}

enum class AttrKind : uint8_t {
  kUnknown,  // not in the policy: skipped (newer kernels add attributes)
  kU8,
  kU16,
  kU32,
  kU64,
  kString,  // NUL-terminated or not; at most max_len characters before the NUL
  kBinary,  // min_len..max_len bytes
  kNested,
  kFlag,  // no payload
};

struct AttrRule {
  AttrKind kind = AttrKind::kUnknown;
  uint16_t min_len = 0;
  uint16_t max_len = 0xffff;
};

// A validated attribute. Accessors match the rule it was validated against.
class Attr {
 public:
  Attr() = default;
  Attr(uint16_t type, Bytes payload) : type_(type), payload_(payload) {}

  uint16_t type() const { return type_; }
  Bytes payload() const { return payload_; }
  uint8_t u8() const { return read<uint8_t>(); }
  uint16_t u16() const { return read<uint16_t>(); }
  uint32_t u32() const { return read<uint32_t>(); }
  uint64_t u64() const { return read<uint64_t>(); }
  // Up to the first NUL.
  std::string_view str() const;

 private:
  template <typename T>
  T read() const {
    T value{};
    std::memcpy(&value, payload_.data(), payload_.size() < sizeof(T) ? payload_.size() : sizeof(T));
    return value;
  }
  uint16_t type_ = 0;
  Bytes payload_;
};

// A policy: rules indexed by attribute type.
using AttrPolicy = std::span<const AttrRule>;

// The attributes of one payload, validated against a policy. For a repeated type the last one wins.
class Attrs {
 public:
  // `what` names the thing being parsed for error messages ("link message", "peer").
  static Result<Attrs> parse(Bytes bytes, AttrPolicy policy, std::string_view what);

  const Attr* get(uint16_t type) const;
  bool has(uint16_t type) const { return get(type) != nullptr; }

 private:
  std::vector<std::optional<Attr>> by_type_;
};

// Splits a stream of attributes without a policy (nested arrays whose types are indexes), checking
// only that each attribute header and length lies within the bytes.
Result<std::vector<Attr>> splitAttributes(Bytes bytes, std::string_view what);

}  // namespace nwg::netlink

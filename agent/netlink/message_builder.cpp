// Bounded netlink message builder (see message_builder.h).
#include "netlink/message_builder.h"

#include <linux/netlink.h>

#include <cassert>
#include <cstring>

#include "netlink/attributes.h"

namespace nwg::netlink {

namespace {
constexpr size_t kAttrHeader = kAttrHeaderLen;
}  // namespace

MessageBuilder::MessageBuilder(uint16_t type, uint16_t flags, size_t limit) : limit_(limit) {
  // Within 64 KiB so that no nest can outgrow its 16-bit length.
  assert(limit >= kMessageHeaderLen && limit <= 0xffff);
  buf_.resize(kMessageHeaderLen);
  nlmsghdr header{};
  header.nlmsg_type = type;
  header.nlmsg_flags = static_cast<uint16_t>(flags | NLM_F_REQUEST);
  std::memcpy(buf_.data(), &header, sizeof header);
  setLength();
}

void MessageBuilder::setLength() {
  const auto len = static_cast<uint32_t>(buf_.size());
  std::memcpy(buf_.data() + offsetof(nlmsghdr, nlmsg_len), &len, sizeof len);
}

bool MessageBuilder::reserve(size_t attr_payload_len) const {
  return buf_.size() + align4(kAttrHeader + attr_payload_len) <= limit_;
}

size_t MessageBuilder::room() const {
  const size_t used = buf_.size() + kAttrHeader;
  if (used >= limit_) return 0;
  return (limit_ - used) & ~size_t{3};
}

bool MessageBuilder::putHeader(const void* data, size_t len) {
  if (buf_.size() + align4(len) > limit_) return false;
  const size_t at = buf_.size();
  buf_.resize(at + align4(len), 0);
  std::memcpy(buf_.data() + at, data, len);
  setLength();
  return true;
}

bool MessageBuilder::put(uint16_t type, const void* data, size_t len) {
  if (!reserve(len)) return false;
  const size_t at = buf_.size();
  buf_.resize(at + align4(kAttrHeader + len), 0);
  nlattr attr{};
  attr.nla_len = static_cast<uint16_t>(kAttrHeader + len);
  attr.nla_type = type;
  std::memcpy(buf_.data() + at, &attr, sizeof attr);
  if (len > 0) std::memcpy(buf_.data() + at + kAttrHeader, data, len);
  setLength();
  return true;
}

bool MessageBuilder::putString(uint16_t type, std::string_view value) {
  if (!reserve(value.size() + 1)) return false;
  std::vector<char> with_nul(value.begin(), value.end());
  with_nul.push_back('\0');
  return put(type, with_nul.data(), with_nul.size());
}

MessageBuilder::Nest MessageBuilder::nest(uint16_t type) {
  if (!reserve(0)) return Nest(nullptr, 0);
  const size_t start = buf_.size();
  buf_.resize(start + kAttrHeader, 0);
  nlattr attr{};
  attr.nla_len = kAttrHeader;
  attr.nla_type = static_cast<uint16_t>(type | NLA_F_NESTED);
  std::memcpy(buf_.data() + start, &attr, sizeof attr);
  setLength();
  return Nest(this, start);
}

void MessageBuilder::rollback(size_t mark) {
  assert(mark >= kMessageHeaderLen && mark <= buf_.size());
  buf_.resize(mark);
  setLength();
}

MessageBuilder::Nest::Nest(Nest&& other) noexcept : builder_(other.builder_), start_(other.start_) {
  other.builder_ = nullptr;
}

void MessageBuilder::Nest::close() {
  if (builder_ == nullptr) return;
  auto& buf = builder_->buf_;
  // A rollback past the nest's start already removed it.
  if (buf.size() >= start_ + kAttrHeader) {
    const size_t len = buf.size() - start_;
    const auto nla_len = static_cast<uint16_t>(len);
    std::memcpy(buf.data() + start_ + offsetof(nlattr, nla_len), &nla_len, sizeof nla_len);
  }
  builder_ = nullptr;
}

void MessageBuilder::Nest::cancel() {
  if (builder_ == nullptr) return;
  if (builder_->buf_.size() >= start_) builder_->rollback(start_);
  builder_ = nullptr;
}

}  // namespace nwg::netlink

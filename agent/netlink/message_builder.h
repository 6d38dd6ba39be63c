// MessageBuilder: builds one netlink message within a fixed size limit. Every attribute checks for
// room first and reports failure instead of writing past the limit; nests are closed (or cancelled)
// by RAII, so a caller can try to add a peer and roll it back when it does not fit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace nwg::netlink {

class MessageBuilder {
 public:
  // The kernel accepts much larger requests; this is the default room for ordinary requests.
  static constexpr size_t kDefaultLimit = 32768;
  static constexpr size_t kMaxLimit = 0xffff;

  // Starts a message of `type` with `flags` (NLM_F_REQUEST is always added). The socket fills in the
  // sequence number and port ID when it sends. `limit` is at most 65535 bytes.
  MessageBuilder(uint16_t type, uint16_t flags, size_t limit = kDefaultLimit);

  // Appends the family's fixed header (ifinfomsg, ifaddrmsg, genlmsghdr) before any attribute.
  bool putHeader(const void* data, size_t len);
  template <typename T>
  bool putHeader(const T& header) {
    return putHeader(&header, sizeof header);
  }

  bool put(uint16_t type, const void* data, size_t len);
  bool putU8(uint16_t type, uint8_t value) { return put(type, &value, sizeof value); }
  bool putU16(uint16_t type, uint16_t value) { return put(type, &value, sizeof value); }
  bool putU32(uint16_t type, uint32_t value) { return put(type, &value, sizeof value); }
  bool putU64(uint16_t type, uint64_t value) { return put(type, &value, sizeof value); }
  // NUL-terminated, as the kernel's NLA_NUL_STRING and NLA_STRING both accept.
  bool putString(uint16_t type, std::string_view value);

  // A nested attribute; closed when it goes out of scope unless cancelled. ok() is false when there
  // was no room to start it (then everything put inside it fails too, as the builder is full).
  class Nest {
   public:
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;
    Nest(Nest&& other) noexcept;
    Nest& operator=(Nest&&) = delete;
    ~Nest() { close(); }

    bool ok() const { return builder_ != nullptr; }
    // Writes the nest's final length; later puts land after it.
    void close();
    // Removes the nest and everything in it from the message.
    void cancel();

   private:
    friend class MessageBuilder;
    Nest(MessageBuilder* builder, size_t start) : builder_(builder), start_(start) {}
    MessageBuilder* builder_;
    size_t start_;
  };
  [[nodiscard]] Nest nest(uint16_t type);

  size_t size() const { return buf_.size(); }
  size_t limit() const { return limit_; }
  // Bytes of payload (attribute header excluded) that still fit in one attribute.
  size_t room() const;

  // Transactions: remember the current end and truncate back to it.
  size_t mark() const { return buf_.size(); }
  void rollback(size_t mark);

  // The finished message (nlmsg_len always reflects what was put).
  const std::vector<uint8_t>& bytes() const { return buf_; }
  std::vector<uint8_t> take() && { return std::move(buf_); }

 private:
  bool reserve(size_t attr_payload_len) const;
  void setLength();

  std::vector<uint8_t> buf_;
  size_t limit_;
};

}  // namespace nwg::netlink

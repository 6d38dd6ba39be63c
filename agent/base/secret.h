// Buffers that held secrets (private keys, their base64/hex text, UAPI and netlink messages that
// carry them) are wiped with sodium_memzero before their memory is freed or reused: the compiler may
// not drop that store, so a key does not linger in freed heap for a core dump or a later read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nwg {

// sodium_memzero: a wipe the optimizer cannot elide.
void secureWipe(void* data, size_t size);
// The whole allocation (capacity, not only size), then empties the container.
void secureWipe(std::string& text);
void secureWipe(std::vector<uint8_t>& bytes);

// A string that wipes its buffer when destroyed or reassigned. Use for every text that carries a
// private or preshared key (UAPI requests and replies, identity files).
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string text) : text_(std::move(text)) {}
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  SecretString(SecretString&& other) noexcept : text_(std::move(other.text_)) { secureWipe(other.text_); }
  SecretString& operator=(SecretString&& other) noexcept {
    if (this != &other) {
      secureWipe(text_);
      text_ = std::move(other.text_);
      secureWipe(other.text_);
    }
    return *this;
  }
  ~SecretString() { secureWipe(text_); }

  const std::string& get() const { return text_; }
  std::string& mutableText() { return text_; }  // grows in place; growing may leave a copy: reserve first
  std::string_view view() const { return text_; }

 private:
  std::string text_;
};

}  // namespace nwg

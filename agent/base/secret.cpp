#include "base/secret.h"

#include <sodium.h>

namespace nwg {

void secureWipe(void* data, size_t size) {
  if (data && size) sodium_memzero(data, size);
}

void secureWipe(std::string& text) {
  // Short strings live inside the object (SSO); the capacity covers both cases.
  text.resize(text.capacity());
  secureWipe(text.data(), text.size());
  text.clear();
}

void secureWipe(std::vector<uint8_t>& bytes) {
  bytes.resize(bytes.capacity());
  secureWipe(bytes.data(), bytes.size());
  bytes.clear();
}

}  // namespace nwg

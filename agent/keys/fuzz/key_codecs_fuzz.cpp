// Fuzzes the strict key codecs: anything accepted must round-trip to the same text form.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "keys/key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto k = nwg::Key::fromBase64(text); k.ok() && k->toBase64() != text) __builtin_trap();
  if (auto k = nwg::Key::fromHex(text); k.ok()) {
    auto again = nwg::Key::fromHex(k->toHex());
    if (!again.ok() || *again != *k) __builtin_trap();
  }
  return 0;
}

// Fuzzes the IP, prefix and endpoint parsers (they read Neutron data and UAPI text).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/ip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto a = nwg::IpAddress::parse(text); a.ok()) {
    auto again = nwg::IpAddress::parse(a->toString());
    if (!again.ok() || *again != *a) __builtin_trap();
  }
  if (auto p = nwg::IpPrefix::parse(text, true); p.ok()) (void)p->masked().toString();
  if (auto e = nwg::Endpoint::parse(text); e.ok()) {
    auto again = nwg::Endpoint::parse(e->toString());
    if (!again.ok() || *again != *e) __builtin_trap();
  }
  return 0;
}

// Fuzzes the parser of `ovs-vsctl --format=json list Interface` (another program's output): it must
// never crash, and what it accepts names only plug ports, each
// under its own name.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ovs/ovs_bridge.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size > (1 << 20)) return 0;
  int depth = 0;
  for (char c : text) {
    if ((c == '[' || c == '{') && ++depth > 64) return 0;  // keep the fuzzer's own parse bounded
    if (c == ']' || c == '}') --depth;
  }
  auto ports = nwg::ovs::parseListPorts(text);
  if (!ports.ok()) return 0;
  for (const auto& [name, port] : *ports) {
    if (!nwg::ovs::isPlugPort(name) || port.name != name) std::abort();
  }
  return 0;
}

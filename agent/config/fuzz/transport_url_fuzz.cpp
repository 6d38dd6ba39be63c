// Fuzzes transport_url parsing: no crash, and the redacted form parses back to the same hosts with
// "***" in place of every password (so the password is nowhere in it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/transport_url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto url = nwg::config::TransportUrl::parse(text);
  if (!url.ok()) {
    if (url.error().message.empty()) std::abort();
    return 0;
  }
  auto again = nwg::config::TransportUrl::parse(url->redacted());
  if (!again.ok() || again->hosts().size() != url->hosts().size()) std::abort();
  for (size_t i = 0; i < url->hosts().size(); ++i) {
    const auto& a = url->hosts()[i];
    const auto& b = again->hosts()[i];
    if (a.host != b.host || a.port != b.port) std::abort();
    if (a.has_credentials && (b.password != "***" || b.username != a.username)) std::abort();
  }
  if (again->virtualHost() != url->virtualHost()) std::abort();
  return 0;
}

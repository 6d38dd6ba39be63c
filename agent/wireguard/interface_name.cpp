// Interface-name validation shared by every backend (see interface_name.h).
#include "wireguard/interface_name.h"

#include <cerrno>

namespace nwg::wg {

Status validateInterfaceName(std::string_view ifname) {
  constexpr size_t kMaxLength = 15;  // IFNAMSIZ - 1
  auto invalid = [&](std::string_view why) {
    return Error(str("invalid interface name '", ifname.substr(0, 32), ifname.size() > 32 ? "..." : "",
                     "': ", why),
                 EINVAL);
  };
  if (ifname.empty()) return invalid("empty");
  if (ifname.size() > kMaxLength) return invalid(str("longer than ", kMaxLength, " characters"));
  if (ifname[0] == '-') return invalid("starts with '-' (wireguard-go would read it as an option)");
  if (ifname[0] == '.') return invalid("starts with '.'");
  for (char c : ifname) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.';
    if (!ok) return invalid("only letters, digits, '_', '-' and '.' are allowed");
  }
  return okStatus();
}

}  // namespace nwg::wg

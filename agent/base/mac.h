// Ethernet (MAC) addresses as Neutron and iproute2 write them: "fa:16:3e:00:00:01".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nwg {

using MacBytes = std::array<uint8_t, 6>;

// Six colon-separated hex pairs, either case; nullopt when malformed.
std::optional<MacBytes> parseMac(std::string_view text);
// Lower-case, colon-separated.
std::string formatMac(const uint8_t* bytes, size_t len);

}  // namespace nwg

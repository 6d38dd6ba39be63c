// Resolving a generic netlink family's id by name (CTRL_CMD_GETFAMILY): the id of "wireguard" differs
// from kernel to kernel. The codec is pure; resolveFamily() asks the kernel over a socket.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "netlink/netlink_socket.h"
#include "netlink/reply.h"

namespace nwg::wg::genl {

std::vector<uint8_t> familyRequest(const std::string& name);
// The family id in a CTRL_CMD_NEWFAMILY reply, checking that it names `name`.
Result<uint16_t> decodeFamilyId(const netlink::Message& message, const std::string& name);
// Asks the kernel; ENOENT when it has no such family (module absent).
Result<uint16_t> resolveFamily(netlink::NetlinkSocket& socket, const std::string& name);

}  // namespace nwg::wg::genl

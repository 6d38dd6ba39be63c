// Random (version 4) UUIDs, as oslo.messaging uses them for _msg_id, _unique_id, reply and fanout queue
// names (32 hex digits) and neutron for request ids and report uuids (the dashed form).
#pragma once

#include <string>

namespace nwg::rpc {

std::string newUuidHex();     // "6a37d8df7bcb4f278a0b6080fd55ef0a"
std::string newUuidString();  // "f676287d-4e1b-46e8-849c-a964f776dcfe"

}  // namespace nwg::rpc

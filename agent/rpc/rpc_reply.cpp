// RpcReply encoding and decoding.
#include "rpc/rpc_reply.h"

namespace nwg::rpc {

nlohmann::json RpcReply::toInner() const {
  nlohmann::json inner = nlohmann::json::object();
  inner["result"] = result;
  inner["failure"] = failure ? nlohmann::json(*failure) : nlohmann::json(nullptr);
  inner["ending"] = ending;
  inner["_msg_id"] = msg_id;
  inner["_unique_id"] = unique_id;
  return inner;
}

Result<RpcReply> RpcReply::fromInner(nlohmann::json inner) {
  if (!inner.is_object()) return fail("reply is not a JSON object");
  RpcReply r;
  auto id = inner.find("_msg_id");
  if (id == inner.end() || !id->is_string()) return fail("reply has no _msg_id");
  r.msg_id = id->get<std::string>();
  if (auto res = inner.find("result"); res != inner.end()) r.result = std::move(*res);
  if (auto f = inner.find("failure"); f != inner.end() && !f->is_null()) {
    if (!f->is_string()) return fail("reply ", r.msg_id, ": failure is not a string");
    if (!f->get_ref<const std::string&>().empty()) r.failure = f->get<std::string>();  // oslo: "if failure:"
  }
  // oslo reads data.get('ending', False) for its truth value.
  r.ending = false;
  if (auto e = inner.find("ending"); e != inner.end()) {
    const nlohmann::json& ending = *e;
    r.ending =
        (ending.is_boolean() && ending.get<bool>()) || (ending.is_number() && ending.get<double>() != 0);
  }
  if (auto u = inner.find("_unique_id"); u != inner.end() && u->is_string())
    r.unique_id = u->get<std::string>();
  return r;
}

}  // namespace nwg::rpc

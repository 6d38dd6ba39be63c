// RpcRequest encoding to and decoding from oslo's inner message keys.
#include "rpc/rpc_request.h"

#include "rpc/request_context.h"

namespace nwg::rpc {

nlohmann::json RpcRequest::toInner() const {
  nlohmann::json inner = nlohmann::json::object();
  inner["method"] = method;
  inner["args"] = args.is_null() ? nlohmann::json::object() : args;
  if (version) inner["version"] = *version;
  if (ns) inner["namespace"] = *ns;
  if (msg_id) {
    inner["_msg_id"] = *msg_id;
    inner["_reply_q"] = reply_q.value_or("");
    inner["_timeout"] =
        call_monitor_timeout ? nlohmann::json(*call_monitor_timeout) : nlohmann::json(nullptr);
  }
  inner["_unique_id"] = unique_id;
  RequestContext::flattenInto(context, inner);
  return inner;
}

Result<RpcRequest> RpcRequest::fromInner(nlohmann::json inner) {
  if (!inner.is_object()) return fail("request is not a JSON object");
  RpcRequest r;
  r.context = RequestContext::extractFrom(inner);
  auto optString = [&inner](const char* key, std::optional<std::string>& out) -> Status {
    auto it = inner.find(key);
    if (it == inner.end() || it->is_null()) return okStatus();
    if (!it->is_string()) return fail("request ", key, " is not a string");
    out = it->get<std::string>();
    return okStatus();
  };
  auto m = inner.find("method");
  if (m == inner.end() || !m->is_string()) return fail("request has no method name");
  r.method = m->get<std::string>();
  // Moved out through the underlying map: moving out of a json iterator's target makes GCC 12 at -O3
  // warn -Wnull-dereference inside nlohmann's iterator (it cannot see the iterator is an object's).
  auto& members = inner.get_ref<nlohmann::json::object_t&>();
  if (auto a = members.find("args"); a != members.end() && !a->second.is_null()) {
    if (!a->second.is_object()) return fail("request ", r.method, ": args is not an object");
    r.args = std::move(a->second);
  }
  NWG_RETURN_IF_ERROR(optString("version", r.version));
  NWG_RETURN_IF_ERROR(optString("namespace", r.ns));
  NWG_RETURN_IF_ERROR(optString("_msg_id", r.msg_id));
  NWG_RETURN_IF_ERROR(optString("_reply_q", r.reply_q));
  if (r.msg_id && !r.reply_q) return fail("request ", r.method, " has a _msg_id but no _reply_q");
  if (auto t = inner.find("_timeout"); t != inner.end() && t->is_number()) {
    r.call_monitor_timeout =
        t->is_number_integer() ? t->get<int64_t>() : static_cast<int64_t>(t->get<double>());
  }
  std::optional<std::string> unique;
  NWG_RETURN_IF_ERROR(optString("_unique_id", unique));
  r.unique_id = unique.value_or("");
  return r;
}

}  // namespace nwg::rpc

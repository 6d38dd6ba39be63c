// Fuzzes everything that decodes bytes received from RabbitMQ on a consumer: the envelope, the inner
// request, its context, the dispatcher (version parsing), and re-encoding what was decoded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rpc/envelope.h"
#include "rpc/rpc_dispatcher.h"
#include "rpc/rpc_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nwg::rpc;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto inner = Envelope::decode(body);
  if (!inner.ok()) return 0;
  auto request = RpcRequest::fromInner(*inner);
  if (!request.ok()) return 0;
  // Re-encoding a decoded request and decoding it again gives the same request.
  auto again = Envelope::decode(Envelope::encode(request->toInner()));
  if (!again.ok()) std::abort();
  auto request2 = RpcRequest::fromInner(std::move(again).value());
  if (!request2.ok() || request2->method != request->method || request2->args != request->args) std::abort();
  static const RpcDispatcher dispatcher = [] {
    RpcEndpoint e;
    e.version = "1.3";
    e.methods["get_hubs"] = [](const nlohmann::json&, const nlohmann::json& args) {
      return MethodOutcome(args);
    };
    return RpcDispatcher({e});
  }();
  auto outcome = dispatcher.dispatch(*request);
  if (!outcome.ok() && outcome.error()->class_name.empty()) std::abort();
  return 0;
}

// Fuzzes the reply path of a call: envelope, reply, failure parsing and the reply-waiter algorithm.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rpc/envelope.h"
#include "rpc/remote_error.h"
#include "rpc/reply_waiter.h"
#include "rpc/rpc_reply.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nwg::rpc;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  // The raw bytes as a failure string too: RemoteError::parse sees whatever a server puts there.
  (void)RemoteError::parse(body);
  auto inner = Envelope::decode(body);
  if (!inner.ok()) return 0;
  auto reply = RpcReply::fromInner(std::move(inner).value());
  if (!reply.ok()) return 0;
  ReplyWaiter waiter;
  if (!waiter.expect(reply->msg_id, "fuzz.call")) std::abort();
  waiter.markPublished(reply->msg_id);
  const auto delivery = waiter.deliver(*reply);
  auto result = waiter.wait(reply->msg_id, ReplyWaiter::Clock::now());
  if (delivery == ReplyWaiter::Delivery::kCompleted) {
    // A completed call has its outcome: a failure iff the reply carried one.
    if (result.ok() == reply->failure.has_value()) std::abort();
  } else if (result.ok() || result.error().kind != RpcErrorKind::kTimeout) {
    std::abort();
  }
  return 0;
}

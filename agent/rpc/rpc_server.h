// The serving side of oslo RPC over one connection at a time: subscriptions (a topic and its
// dispatcher), their queues and consumers as an oslo RPC server declares them (SPEC §2: "<topic>",
// "<topic>.<host>", "<topic>_fanout_<uuid>"), routing of deliveries by consumer tag, oslo's duplicate
// filter, dispatch behind an exception barrier, and the replies to calls (SPEC §4.2, §5).
//
// Owned by RpcClient's I/O thread; not thread-safe. Handlers run on that thread: they must only mark or
// enqueue work. Nothing a peer sends reaches a log line unsanitized (sanitizeForLog).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "logging/log.h"
#include "rpc/amqp_transport.h"
#include "rpc/duplicate_filter.h"
#include "rpc/json_limits.h"
#include "rpc/rpc_dispatcher.h"
#include "rpc/topology.h"

namespace nwg::rpc {

class RpcServer {
 public:
  struct Options {
    std::string host;                   // also consume "<topic>.<host>" (not when empty)
    bool direct_mandatory_flag = true;  // replies are published mandatory
    JsonLimits limits;                  // on every request body
  };

  RpcServer(Topology topology, Options options, logging::Log log);

  // Adds a subscription; `fanout_hex` names its fanout queue ("<topic>_fanout_<fanout_hex>"). Returns
  // its index for declare().
  size_t add(std::string topic, std::shared_ptr<const RpcDispatcher> dispatcher, std::string fanout_hex);
  size_t size() const { return subscriptions_.size(); }
  const std::string& topic(size_t index) const { return subscriptions_.at(index)->topic; }

  // Declares subscription `index`'s exchanges and queues on `transport` and consumes them (again after
  // a reconnect). A failure is returned with the broker's reason; check transport.alive() after it.
  Status declare(AmqpTransport& transport, size_t index);

  // True when `consumer_tag` is one of ours on the current connection.
  bool owns(const std::string& consumer_tag) const { return by_tag_.count(consumer_tag) != 0; }

  // A delivery to one of our consumers (already acked, as oslo acks before dispatch): decodes it within
  // the limits, drops duplicates, dispatches it (a handler's exception becomes the caller's
  // RuntimeError, never leaves here) and answers a call on `transport`. Never throws for what a peer
  // sent; malformed messages are dropped with one warning line.
  void handle(AmqpTransport& transport, const AmqpEvent& delivery);

  // The connection is gone: its consumer tags mean nothing any more.
  void forgetConsumers();

  // As oslo does on close: cancels our consumers, then deletes this process's fanout queues, which would
  // otherwise collect fanout copies until they expire (best effort).
  void close(AmqpTransport& transport);

 private:
  struct Subscription {
    std::string topic;
    std::shared_ptr<const RpcDispatcher> dispatcher;
    std::string fanout_hex;
    std::vector<std::string> consumer_tags;
    DuplicateFilter seen;
  };

  void handleRequest(AmqpTransport& transport, Subscription& sub, const AmqpEvent& delivery);

  const Topology topology_;
  const Options options_;
  const logging::Log log_;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;
  std::map<std::string, Subscription*> by_tag_;
  uint64_t next_tag_ = 1;
};

}  // namespace nwg::rpc

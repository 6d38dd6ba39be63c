// Publisher confirms: which waiting call or cast each publish sequence number belongs to. The broker
// acks (or nacks) sequence numbers of the publish channel, one at a time or "every one up to N"
// (multiple); a publish nobody waits for (a reply to someone else's call) is not entered. When the
// connection or the publish channel goes, every entry is taken out at once: the broker will confirm
// none of them. Pure bookkeeping, owned by the I/O thread; RpcClient completes the waiters.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nwg::rpc {

class ConfirmLedger {
 public:
  struct Entry {
    std::string id;     // the ReplyWaiter id of the call or cast
    std::string what;   // "topic.method", for messages
    bool cast = false;  // a cast completes on its ack; a call still waits for its reply
  };
  struct Settled {
    uint64_t seq = 0;
    Entry entry;
    bool ack = true;
  };

  // Records a publish. Sequence numbers come from one publish channel: increasing.
  void add(uint64_t seq, Entry entry);

  // basic.ack / basic.nack of `tag` (and, with `multiple`, of every earlier one): the entries it settles,
  // removed, in sequence order. Unknown tags are ignored.
  std::vector<Settled> confirm(uint64_t tag, bool multiple, bool ack);

  // Every entry, in sequence order, leaving the ledger empty (connection lost, publish channel closed:
  // the sequence numbers start again on the next channel).
  std::vector<Settled> takeAll();

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::map<uint64_t, Entry> entries_;
};

}  // namespace nwg::rpc

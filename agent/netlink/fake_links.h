// FakeLinks: an in-memory Links for unit tests, kept honest by the contract suite that runs against it
// and against RtnetlinkLinks (netlink/tests/links_contract.h). It models what the agent relies on:
// per-namespace names, ENODEV/EEXIST/ENOENT, a move setting the link down and dropping its addresses
// (and keeping its MTU and alias), veth pairs (removing one end removes both), routes (only through a
// link that is up, a gateway only where the link reaches it; a link set down or moved loses them),
// duplicate address detection (an IPv6 address added without AddressOptions::no_dad to a link that
// does ARP/ND, i.e. not WireGuard's, stays tentative: the fake never completes DAD).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "netlink/links.h"
#include "netns/namespaces.h"

namespace nwg {

class FakeLinks : public Links {
 public:
  // With `namespaces`, operations in (and moves to) a namespace it does not know fail with ENOENT,
  // as with real namespaces; without, every namespace name exists.
  explicit FakeLinks(Namespaces* namespaces = nullptr) : namespaces_(namespaces) {}

  Result<std::vector<LinkInfo>> list(const std::string& netns) override;
  Result<LinkInfo> get(const std::string& netns, const std::string& name) override;
  Status create(const std::string& netns, const std::string& name, const std::string& kind) override;
  Status remove(const std::string& netns, const std::string& name) override;
  Status moveTo(const std::string& netns, const std::string& name, const std::string& target) override;
  Status setUp(const std::string& netns, const std::string& name, bool up) override;
  Status setMtu(const std::string& netns, const std::string& name, uint32_t mtu) override;
  Status setAlias(const std::string& netns, const std::string& name, const std::string& alias) override;
  Result<std::vector<IpPrefix>> addresses(const std::string& netns, const std::string& name) override;
  Status replaceAddresses(const std::string& netns, const std::string& name,
                          const std::vector<IpPrefix>& wanted, AddressOptions options = {}) override;
  Result<std::vector<IpPrefix>> tentativeAddresses(const std::string& netns,
                                                   const std::string& name) override;
  Status createVethPair(const std::string& netns, const std::string& name, const std::string& peer) override;
  Status setMacAddress(const std::string& netns, const std::string& name, const std::string& mac) override;
  Result<std::vector<Route>> routes(const std::string& netns, const std::string& name) override;
  Status replaceRoute(const std::string& netns, const std::string& name, const Route& route) override;
  Status deleteRoute(const std::string& netns, const std::string& name, const Route& route) override;

  // Kinds create() accepts (others fail with EOPNOTSUPP, as the kernel's "Unknown device type").
  void setSupportedKinds(std::set<std::string> kinds) { kinds_ = std::move(kinds); }
  // Puts a link in place directly (e.g. a wireguard-go "tun" link that the backend created).
  void addExisting(const std::string& netns, LinkInfo link, std::vector<IpPrefix> addresses = {});
  // The next call of `op` ("create", "moveTo", "replaceAddresses", ...) fails with `error`.
  void failNext(const std::string& op, Error error) { failures_[op] = std::move(error); }
  // Calls that changed something; a call that found nothing to do does not count.
  int mutations() const { return mutations_; }
  // How many times list() was called for each namespace ("" the agent's own).
  const std::map<std::string, int>& lists() const { return lists_; }
  void resetLists() { lists_.clear(); }

 private:
  struct Link {
    LinkInfo info;
    std::vector<IpPrefix> addresses;       // sorted
    std::vector<IpPrefix> tentative = {};  // those of `addresses` DAD holds, sorted
    std::vector<Route> routes = {};        // sorted
    std::string peer_netns = {};           // a veth's other end, when peer_name is set
    std::string peer_name = {};
  };
  Link* peerOf(const Link& link);
  std::map<std::string, int> lists_;
  Status injected(const std::string& op);
  Status checkNamespace(const std::string& netns);
  Result<Link*> find(const std::string& netns, const std::string& name);

  Namespaces* namespaces_;
  std::map<std::string, std::map<std::string, Link>> links_;  // netns -> name -> link
  std::set<std::string> kinds_ = {"wireguard", "veth", "dummy", "bridge"};
  std::map<std::string, Error> failures_;
  int next_index_ = 100;
  int mutations_ = 0;
};

}  // namespace nwg

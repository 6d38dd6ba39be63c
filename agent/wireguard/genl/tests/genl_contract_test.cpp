// The WireGuard backend contract suite against GenlBackend: kernel WireGuard, so it runs in the VM.
#include "netlink/rtnetlink_links.h"
#include "netns/linux_namespaces.h"
#include "testing/testing.h"
#include "wireguard/contract/backend_contract.h"
#include "wireguard/genl/genl_backend.h"

namespace nwg::wg {
namespace {

contract::BackendUnderTest makeGenl() {
  // The backend borrows these; they live for the whole test binary.
  static LinuxNamespaces namespaces;
  static RtnetlinkLinks links(namespaces);
  static int counter = 0;
  contract::BackendUnderTest ut;
  if (!GenlBackend::available())
    ut.unavailable = "no kernel WireGuard (the genl family 'wireguard' is unknown)";
  ut.backend = std::make_unique<GenlBackend>(namespaces, links);
  ut.fresh_name = [] { return str("wgc", testing::runToken(), counter++); };
  ut.set_link_up = [](const std::string& ifname) {
    Status s = links.setUp("", ifname, true);
    ASSERT_TRUE(s.ok()) << s.error().message;
  };
  return ut;
}

using contract::BackendContractTest;
INSTANTIATE_TEST_SUITE_P(Genl, BackendContractTest,
                         ::testing::Values(contract::BackendFactory{"genl", makeGenl}),
                         contract::backendFactoryName);
using contract::BackendHandshakeTest;
INSTANTIATE_TEST_SUITE_P(Genl, BackendHandshakeTest,
                         ::testing::Values(contract::BackendFactory{"genl", makeGenl}),
                         contract::backendFactoryName);

}  // namespace
}  // namespace nwg::wg

// The backend contract, run against UapiBackend and real wireguard-go daemons (root).
#include "netlink/rtnetlink_links.h"
#include "netns/linux_namespaces.h"
#include "wireguard/contract/backend_contract.h"
#include "wireguard/tests/integration_support.h"

namespace nwg::wg {
namespace {

contract::BackendUnderTest makeUapi() {
  contract::BackendUnderTest ut;
  ut.unavailable = testsupport::wireguardGoMissing();
  ut.backend = std::make_unique<UapiBackend>(testsupport::testOptions());
  ut.fresh_name = testsupport::freshName;
  ut.set_link_up = [](const std::string& ifname) {
    static LinuxNamespaces namespaces;
    static RtnetlinkLinks links(namespaces);
    Status s = links.setUp("", ifname, true);
    ASSERT_TRUE(s.ok()) << s.error().message;
  };
  return ut;
}

using contract::BackendContractTest;  // INSTANTIATE_TEST_SUITE_P needs the unqualified name
INSTANTIATE_TEST_SUITE_P(Uapi, BackendContractTest,
                         ::testing::Values(contract::BackendFactory{"wireguard_go", makeUapi}),
                         contract::backendFactoryName);
using contract::BackendHandshakeTest;
INSTANTIATE_TEST_SUITE_P(Uapi, BackendHandshakeTest,
                         ::testing::Values(contract::BackendFactory{"wireguard_go", makeUapi}),
                         contract::backendFactoryName);

}  // namespace
}  // namespace nwg::wg

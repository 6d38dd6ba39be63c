// The backend contract, run against FakeBackend: keeps the fake as strict as the real transports.
#include <atomic>

#include "wireguard/contract/backend_contract.h"
#include "wireguard/fake/fake_backend.h"

namespace nwg::wg {
namespace {

contract::BackendUnderTest makeFake() {
  contract::BackendUnderTest ut;
  ut.backend = std::make_unique<FakeBackend>();
  ut.fresh_name = [] {
    static std::atomic<int> n{0};
    return "wg-fake" + std::to_string(n++);
  };
  return ut;
}

using contract::BackendContractTest;  // INSTANTIATE_TEST_SUITE_P needs the unqualified name
INSTANTIATE_TEST_SUITE_P(Fake, BackendContractTest,
                         ::testing::Values(contract::BackendFactory{"fake", makeFake}),
                         contract::backendFactoryName);

}  // namespace
}  // namespace nwg::wg

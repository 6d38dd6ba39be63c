// The contract every WireGuard backend must honour (GenlBackend, UapiBackend, FakeBackend): one
// parameterized GoogleTest suite, instantiated by each backend's test binary with its own factory.
//
//   #include "wireguard/contract/backend_contract.h"
//   using nwg::wg::contract::BackendContractTest;
//   INSTANTIATE_TEST_SUITE_P(Genl, BackendContractTest,
//       ::testing::Values(nwg::wg::contract::BackendFactory{"genl", [] { ... }}),
//       nwg::wg::contract::backendFactoryName);
//
// Link the binary with nwg_wireguard_contract (an OBJECT library, so the tests are not dropped).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wireguard/backend.h"

namespace nwg::wg::contract {

// What a factory hands the suite for one test.
struct BackendUnderTest {
  std::unique_ptr<Backend> backend;
  // A fresh interface name, unique on the host for every call (include testing::runToken()).
  std::function<std::string()> fresh_name;
  // DeviceRef.netns of the devices the suite creates ("" = the backend's own namespace).
  std::string netns;
  // Why this backend cannot run here ("" = it can): the test then skips loudly through NWG_REQUIRE.
  std::string unavailable;
  // Runs after each device the suite creates, e.g. to set the link up: kernel WireGuard binds its
  // UDP socket (and so can report EADDRINUSE) only while the link is up. May be empty.
  std::function<void(const std::string& ifname)> after_create;
  // Runs after each test, once the suite has destroyed every device it created.
  std::function<void()> cleanup;
  // Sets a device's link up; needed by the suites whose WireGuard must send packets
  // (BackendHandshakeTest), which only backends that really send instantiate.
  std::function<void(const std::string& ifname)> set_link_up;
};

struct BackendFactory {
  std::string name;  // part of the test names: [a-zA-Z0-9_] only
  std::function<BackendUnderTest()> make;
};

class BackendContractTest : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  Backend& backend() { return *ut_.backend; }
  // Creates a device with a fresh name (ASSERT-fails the test on error) and destroys it in TearDown.
  std::string createDevice();
  DeviceRef ref(const std::string& ifname) const { return DeviceRef{ut_.netns, ifname}; }
  // Sets a listen port nothing else on the host uses; returns it (0 after a test failure).
  uint16_t setFreeListenPort(const std::string& ifname);

  BackendUnderTest ut_;
  std::vector<std::string> created_;
};

// What a real WireGuard does on the wire, which the fake cannot model: instantiated by the real
// backends only (userspace, kernel), with BackendUnderTest::set_link_up.
class BackendHandshakeTest : public BackendContractTest {};

// The test-name suffix for a factory: its name.
std::string backendFactoryName(const ::testing::TestParamInfo<BackendFactory>& info);

// A device as WireGuard would compare it: peers sorted by key, allowed IPs masked and sorted,
// statistics and update flags cleared, the read-only public key dropped.
Device canonical(Device device);

}  // namespace nwg::wg::contract

// The contract every Links implementation keeps, as a parameterized GoogleTest suite: run against
// FakeLinks (unit), RtnetlinkLinks on this host (integration, veth) and inside the kernel VM
// (vm, wireguard and veth). Every link lives in namespaces the test creates and removes.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "netlink/links.h"
#include "netns/namespaces.h"

namespace nwg::testing {

struct LinksHarness {
  std::unique_ptr<Namespaces> namespaces;
  std::unique_ptr<Links> links;  // may refer to `namespaces`
};

struct LinksTarget {
  std::string name;  // "fake", "rtnetlink_veth", ...
  std::function<LinksHarness()> make;
  std::string kind;  // a link kind create() can make here without extra attributes
  bool needs_root = false;
};

class LinksContract : public ::testing::TestWithParam<LinksTarget> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // A namespace unique to this process, removed (with its links) in TearDown.
  std::string makeNamespace(const std::string& suffix);

  LinksHarness h_;
  Links* links_ = nullptr;
  std::string kind_;
  std::vector<std::string> namespaces_;
};

// Test parameters print as their name, not as bytes.
inline void PrintTo(const LinksTarget& target, std::ostream* out) {
  *out << target.name;
}

inline std::string linksTargetName(const ::testing::TestParamInfo<LinksTarget>& info) {
  return info.param.name;
}

}  // namespace nwg::testing

// The contract every Namespaces implementation keeps, as a parameterized GoogleTest suite: run
// against FakeNamespaces (unit) and LinuxNamespaces (integration on the host, and inside the VM).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "netns/namespaces.h"

namespace nwg::testing {

struct NamespacesTarget {
  std::string name;  // for the test name: "fake", "linux"
  std::function<std::unique_ptr<Namespaces>()> make;
  bool needs_root = false;
};

class NamespacesContract : public ::testing::TestWithParam<NamespacesTarget> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // A name unique to this process and test, removed in TearDown.
  std::string track(const std::string& suffix);

  std::unique_ptr<Namespaces> ns_;
  std::vector<std::string> created_;
};

// Test parameters print as their name, not as bytes.
inline void PrintTo(const NamespacesTarget& target, std::ostream* out) {
  *out << target.name;
}

inline std::string namespacesTargetName(const ::testing::TestParamInfo<NamespacesTarget>& info) {
  return info.param.name;
}

}  // namespace nwg::testing

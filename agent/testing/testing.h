// Test support shared by every layer.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace nwg::testing {

// True when scripts/test runs us (NWG_TEST_REQUIRE_ALL=1): then nothing may be skipped.
bool requireAll();
bool isRoot();
// A short token unique to this test process, for names that are global to the host (namespaces,
// wireguard-go sockets, vhosts): at most 6 characters so "wg-" names stay within IFNAMSIZ.
const std::string& runToken();
// An environment variable, or "" when unset.
std::string env(const char* name);

}  // namespace nwg::testing

// Skips the test loudly when `cond` is false, naming what is missing; under scripts/test
// (NWG_TEST_REQUIRE_ALL=1) a missing prerequisite fails the test instead.
#define NWG_REQUIRE(cond, why)                                                         \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      if (::nwg::testing::requireAll()) {                                              \
        FAIL() << "prerequisite missing under NWG_TEST_REQUIRE_ALL: " << (why);        \
      } else {                                                                         \
        GTEST_SKIP() << "SKIPPED (prerequisite missing): " << (why);                   \
      }                                                                                \
    }                                                                                  \
  } while (0)

#define NWG_REQUIRE_ROOT() NWG_REQUIRE(::nwg::testing::isRoot(), "needs root (network namespaces)")

// Runs the Namespaces contract against FakeNamespaces, plus the fake's own test hooks.
#include "netns/fake_namespaces.h"

#include <cerrno>

#include "netns/tests/namespaces_contract.h"

namespace nwg::testing {

INSTANTIATE_TEST_SUITE_P(Fake, NamespacesContract,
                         ::testing::Values(NamespacesTarget{
                             "fake", [] { return std::make_unique<FakeNamespaces>(); }, false}),
                         namespacesTargetName);

TEST(FakeNamespaces, InjectedFailureHitsOnlyTheNextCall) {
  FakeNamespaces ns;
  ns.failNext("create", Error("boom", EPERM));
  auto first = ns.create("x");
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, EPERM);
  EXPECT_TRUE(ns.create("x").ok());
  EXPECT_EQ(ns.mutations(), 1);
  EXPECT_TRUE(ns.create("x").ok());
  EXPECT_EQ(ns.mutations(), 1);  // idempotent create changed nothing
}

}  // namespace nwg::testing

#include "daemon/backend_choice.h"

#include <gtest/gtest.h>

namespace nwg::daemon {
namespace {

using config::Backend;

TEST(ChooseBackend, AutoPrefersTheKernel) {
  EXPECT_EQ(*chooseBackend(Backend::kAuto, true, true, "wireguard-go"), BackendKind::kKernel);
  EXPECT_EQ(*chooseBackend(Backend::kAuto, false, true, "wireguard-go"), BackendKind::kUserspace);
}

TEST(ChooseBackend, ExplicitChoiceIsHonouredOrExplained) {
  EXPECT_EQ(*chooseBackend(Backend::kUserspace, true, true, "wireguard-go"), BackendKind::kUserspace);
  EXPECT_EQ(*chooseBackend(Backend::kKernel, true, false, "wireguard-go"), BackendKind::kKernel);
  auto no_kernel = chooseBackend(Backend::kKernel, false, true, "wireguard-go");
  ASSERT_FALSE(no_kernel.ok());
  EXPECT_NE(no_kernel.error().message.find("modprobe wireguard"), std::string::npos);
  auto no_go = chooseBackend(Backend::kUserspace, true, false, "/opt/wg-go");
  ASSERT_FALSE(no_go.ok());
  EXPECT_NE(no_go.error().message.find("/opt/wg-go"), std::string::npos);
}

TEST(ResolveExecutable, SearchesPathLikeAShell) {
  EXPECT_EQ(resolveExecutable("sh", "/nonexistent:/bin"), "/bin/sh");
  EXPECT_EQ(resolveExecutable("/bin/sh", ""), "/bin/sh");
  EXPECT_FALSE(resolveExecutable("sh", "/nonexistent").has_value());
  EXPECT_FALSE(resolveExecutable("/nonexistent/sh", "/bin").has_value());
  EXPECT_FALSE(resolveExecutable("", "/bin").has_value());
}

TEST(ChooseBackend, NothingAvailableSaysWhatToInstall) {
  auto none = chooseBackend(Backend::kAuto, false, false, "wireguard-go");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("apt-get install wireguard-go"), std::string::npos);
  EXPECT_NE(none.error().message.find("kernel module"), std::string::npos);
}

}  // namespace
}  // namespace nwg::daemon

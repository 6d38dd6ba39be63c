// Interface-name validation: what wireguard-go and the kernel would mis-handle is refused up front.
#include "wireguard/interface_name.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace nwg::wg {
namespace {

TEST(InterfaceNameTest, AcceptsAgentNames) {
  EXPECT_TRUE(validateInterfaceName("wg-0123456789a").ok());
  EXPECT_TRUE(validateInterfaceName("wg-0123456789ab").ok());  // 15 characters
  EXPECT_TRUE(validateInterfaceName("a").ok());
  EXPECT_TRUE(validateInterfaceName("wg_0.x-Y").ok());
}

TEST(InterfaceNameTest, RejectsWhatWireguardGoWouldMisread) {
  for (const char* bad : {"", "--help", "-f", ".hidden", "wg-0123456789abc", "a/b", "a b", "a:b", "wg\n",
                          "../../etc", "w\xc3\xa9"}) {
    Status s = validateInterfaceName(bad);
    ASSERT_FALSE(s.ok()) << "accepted '" << bad << "'";
    EXPECT_EQ(s.error().code, EINVAL);
  }
  EXPECT_NE(validateInterfaceName("--help").error().message.find("'--help'"), std::string::npos);
  EXPECT_NE(validateInterfaceName("wg-0123456789abc").error().message.find("15"), std::string::npos);
}

}  // namespace
}  // namespace nwg::wg

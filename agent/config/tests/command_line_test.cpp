// The agent's command line.
#include "config/command_line.h"

#include <gtest/gtest.h>

namespace nwg::config {
namespace {

TEST(CommandLineTest, RepeatableConfigFilesKeepTheirOrder) {
  auto cl =
      CommandLine::parse({"--config-file", "/etc/neutron/neutron.conf", "--config-dir=/etc/neutron/conf.d",
                          "--config-file=/etc/neutron/plugins/ml2/wireguard_agent.ini"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  ASSERT_EQ(cl->config.size(), 3u);
  EXPECT_EQ(cl->config[0].path, "/etc/neutron/neutron.conf");
  EXPECT_EQ(cl->config[1].kind, ConfigLocation::Kind::kDir);
  EXPECT_EQ(cl->config[2].path, "/etc/neutron/plugins/ml2/wireguard_agent.ini");
}

TEST(CommandLineTest, Flags) {
  auto cl = CommandLine::parse({"--debug", "--dry-run", "--once"});
  ASSERT_TRUE(cl.ok());
  EXPECT_TRUE(cl->debug);
  EXPECT_TRUE(cl->dry_run);
  EXPECT_TRUE(cl->once);
  EXPECT_FALSE(cl->help);
  EXPECT_TRUE(CommandLine::parse({"-h"})->help);
  EXPECT_TRUE(CommandLine::parse({"--version"})->version);
  EXPECT_TRUE(CommandLine::parse({"-d"})->debug);
}

TEST(CommandLineTest, ArgvFormSkipsTheProgramName) {
  const char* argv[] = {"neutron-wireguard-agent", "--once"};
  auto cl = CommandLine::parse(2, argv);
  ASSERT_TRUE(cl.ok());
  EXPECT_TRUE(cl->once);
}

TEST(CommandLineTest, ErrorsNameTheArgument) {
  EXPECT_EQ(CommandLine::parse({"--config-file"}).error().message, "option --config-file needs a value");
  EXPECT_EQ(CommandLine::parse({"--config-file="}).error().message,
            "option --config-file needs a non-empty value");
  EXPECT_EQ(CommandLine::parse({"--bogus"}).error().message, "unknown argument '--bogus' (see --help)");
  EXPECT_EQ(CommandLine::parse({"extra"}).error().message, "unknown argument 'extra' (see --help)");
  EXPECT_EQ(CommandLine::parse({"--once=yes"}).error().message, "option --once takes no value");
}

TEST(CommandLineTest, UsageMentionsEveryOption) {
  const std::string u = CommandLine::usage("neutron-wireguard-agent");
  for (const char* opt :
       {"--config-file", "--config-dir", "--debug", "--dry-run", "--once", "--help", "--version"}) {
    EXPECT_NE(u.find(opt), std::string::npos) << opt;
  }
}

}  // namespace
}  // namespace nwg::config

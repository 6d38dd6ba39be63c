// Option types accept what oslo.config accepts and reject the rest with a cause.
#include "config/option_types.h"

#include <gtest/gtest.h>

namespace nwg::config {
namespace {

TEST(OptionTypesTest, BooleansAsOsloSpellsThem) {
  for (const char* t : {"true", "TRUE", "True", "1", "on", "ON", "yes", "Yes", " true "}) {
    auto b = parseBool(t);
    ASSERT_TRUE(b.ok()) << t;
    EXPECT_TRUE(*b) << t;
  }
  for (const char* f : {"false", "FALSE", "0", "off", "Off", "no", "NO"}) {
    auto b = parseBool(f);
    ASSERT_TRUE(b.ok()) << f;
    EXPECT_FALSE(*b) << f;
  }
  for (const char* bad : {"", "y", "n", "2", "truee", "enabled"}) {
    auto b = parseBool(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.error().message.find("is not a boolean"), std::string::npos);
  }
}

TEST(OptionTypesTest, IntegersAsPythonIntReadsThem) {
  EXPECT_EQ(*parseInt("42"), 42);
  EXPECT_EQ(*parseInt(" -7 "), -7);
  EXPECT_EQ(*parseInt("+3"), 3);
  EXPECT_EQ(*parseInt("1_000"), 1000);
  EXPECT_EQ(*parseInt("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(*parseInt("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"", "-", "1.5", "0x10", "1_", "_1", "1__0", "12a", "9223372036854775808"}) {
    EXPECT_FALSE(parseInt(bad).ok()) << bad;
  }
}

TEST(OptionTypesTest, Floats) {
  EXPECT_DOUBLE_EQ(*parseFloat("30"), 30.0);
  EXPECT_DOUBLE_EQ(*parseFloat("0.5"), 0.5);
  EXPECT_DOUBLE_EQ(*parseFloat("1e2"), 100.0);
  for (const char* bad : {"", "abc", "inf", "nan", "0x1p3", "1.2.3", "1e999"})
    EXPECT_FALSE(parseFloat(bad).ok()) << bad;
}

TEST(OptionTypesTest, ListsAsOsloSplitsThem) {
  EXPECT_EQ(parseList(""), std::vector<std::string>{});
  EXPECT_EQ(parseList("  "), std::vector<std::string>{});
  EXPECT_EQ(parseList("a"), std::vector<std::string>{"a"});
  EXPECT_EQ(parseList("a, b ,c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(parseList("a,b,"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parseList("a,\nb"), (std::vector<std::string>{"a", "b"}));  // continuation lines
  EXPECT_EQ(parseList("a,,b"), (std::vector<std::string>{"a", "", "b"}));
}

TEST(OptionTypesTest, PortRanges) {
  EXPECT_EQ(*parsePortRange("51820:52820"), (PortRange{51820, 52820}));
  EXPECT_EQ(*parsePortRange(" 1 : 1 "), (PortRange{1, 1}));
  for (const char* bad : {"", "51820", "0:10", "10:70000", "20:10", "a:b", "1-2"}) {
    EXPECT_FALSE(parsePortRange(bad).ok()) << bad;
  }
}

TEST(OptionTypesTest, GoMemoryLimits) {
  for (const char* good : {"512MiB", "1GiB", "1048576", "100B", "4KiB", "1TiB", "auto", "off"})
    EXPECT_TRUE(parseGoMemoryLimit(good).ok()) << good;
  for (const char* bad : {"", "MiB", "512MB", "512 MiB", "-1", "1.5GiB", "512mib"})
    EXPECT_FALSE(parseGoMemoryLimit(bad).ok()) << bad;
}

}  // namespace
}  // namespace nwg::config

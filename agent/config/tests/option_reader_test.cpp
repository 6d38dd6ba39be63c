// OptionReader: override order, deprecated names and groups, substitution, errors naming their origin.
#include "config/option_reader.h"

#include <gtest/gtest.h>

namespace nwg::config {
namespace {

IniFile ini(std::string_view text, std::string path) {
  auto f = IniFile::parse(text, std::move(path));
  EXPECT_TRUE(f.ok());
  return f.ok() ? std::move(f).value() : IniFile();
}

std::vector<OptionSpec> specs() {
  return {
      {"DEFAULT", "name", "dflt"}, {"DEFAULT", "secret_url", "", {}, true},
      {"grp", "count", "5"},       {"grp", "path", "/var/lib/x"},
      {"grp", "sub", "$path/sub"}, {"grp", "flag", "false", {{"grp", "old_flag"}, {"DEFAULT", "flag"}}},
      {"grp", "ratio", "0.5"},     {"grp", "items", ""},
      {"grp", "mode", "a"},
  };
}

TEST(OptionReaderTest, DefaultsWhenNoFileSetsTheOption) {
  ConfigSources sources;
  OptionReader r(sources, specs());
  EXPECT_EQ(*r.getString("DEFAULT", "name"), "dflt");
  EXPECT_EQ(*r.getInt("grp", "count", 0, 10), 5);
  EXPECT_FALSE(*r.getBool("grp", "flag"));
  EXPECT_DOUBLE_EQ(*r.getFloat("grp", "ratio", 0, 1), 0.5);
  EXPECT_TRUE(r.getList("grp", "items")->empty());
}

TEST(OptionReaderTest, LaterFilesOverrideEarlierOnes) {
  ConfigSources sources(
      {ini("[grp]\ncount = 1\nmode = b\n", "/a.conf"), ini("[GRP]\ncount = 2\n", "/b.ini")});
  OptionReader r(sources, specs());
  EXPECT_EQ(*r.getInt("grp", "count", 0, 10), 2);
  EXPECT_EQ(*r.getString("grp", "mode"), "b");  // only the first file sets it
}

TEST(OptionReaderTest, OptionsRegisteredInAGroupAreNotReadFromDefault) {
  ConfigSources sources({ini("[DEFAULT]\ncount = 9\n", "/a.conf")});
  OptionReader r(sources, specs());
  EXPECT_EQ(*r.getInt("grp", "count", 0, 10), 5);
}

TEST(OptionReaderTest, DeprecatedNamesAndGroupsAreReadWhenTheOptionIsNot) {
  {
    ConfigSources sources({ini("[grp]\nold_flag = yes\n", "/a.conf")});
    EXPECT_TRUE(*OptionReader(sources, specs()).getBool("grp", "flag"));
  }
  {
    ConfigSources sources({ini("[DEFAULT]\nflag = on\n", "/a.conf")});
    EXPECT_TRUE(*OptionReader(sources, specs()).getBool("grp", "flag"));
  }
  {
    ConfigSources sources({ini("[DEFAULT]\nflag = on\n[grp]\nflag = off\n", "/a.conf")});
    EXPECT_FALSE(*OptionReader(sources, specs()).getBool("grp", "flag"));
  }
}

TEST(OptionReaderTest, ErrorsNameFileSectionAndOption) {
  ConfigSources sources({ini("[Grp]\ncount = lots\nflag = maybe\nratio = 2\nmode = c\n", "/etc/x.ini")});
  OptionReader r(sources, specs());
  EXPECT_EQ(r.getInt("grp", "count", 0, 10).error().message,
            "/etc/x.ini: [Grp] count: 'lots' is not an integer");
  EXPECT_EQ(r.getBool("grp", "flag").error().message,
            "/etc/x.ini: [Grp] flag: 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)");
  EXPECT_EQ(r.getFloat("grp", "ratio", 0, 1).error().message,
            "/etc/x.ini: [Grp] ratio: 2 is out of range (0..1)");
  EXPECT_EQ(r.getChoice("grp", "mode", {"a", "b"}).error().message,
            "/etc/x.ini: [Grp] mode: 'c' is not one of: a, b");
}

TEST(OptionReaderTest, ErrorsForDeprecatedSpellingsNameTheSpellingUsed) {
  ConfigSources sources({ini("[grp]\nold_flag = perhaps\n", "/a.conf")});
  auto b = OptionReader(sources, specs()).getBool("grp", "flag");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message.rfind("/a.conf: [grp] old_flag: ", 0), 0u) << b.error().message;
}

TEST(OptionReaderTest, RangeErrors) {
  ConfigSources sources({ini("[grp]\ncount = 11\n", "/a.conf")});
  EXPECT_EQ(OptionReader(sources, specs()).getInt("grp", "count", 0, 10).error().message,
            "/a.conf: [grp] count: 11 is out of range (0..10)");
}

TEST(OptionReaderTest, SubstitutionAsOsloConfigDoesIt) {
  ConfigSources sources(
      {ini("[DEFAULT]\nstate_path = /srv/neutron\n"
           "[grp]\npath = ${state_path}/wg\nmode = $$literal \\$too ${grp.count}x $name $ alone\n",
           "/a.conf")});
  OptionReader r(sources, specs());
  EXPECT_EQ(*r.getString("grp", "path"), "/srv/neutron/wg");  // unregistered DEFAULT option from the file
  EXPECT_EQ(*r.getString("grp", "sub"), "$path/sub");         // defaults are not substituted
  EXPECT_EQ(*r.getString("grp", "mode"), "$literal $too 5x dflt $ alone");
}

TEST(OptionReaderTest, SubstitutionOfAnUnknownNameIsAnError) {
  ConfigSources sources({ini("[grp]\nmode = $nosuch\n", "/a.conf")});
  auto v = OptionReader(sources, specs()).getString("grp", "mode");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message,
            "/a.conf: [grp] mode: '$nosuch' does not name a known option; write '$$' for a literal '$'");
}

TEST(OptionReaderTest, SubstitutionLoopsAreErrors) {
  ConfigSources sources({ini("[grp]\nmode = $path\npath = $mode\n", "/a.conf")});
  auto v = OptionReader(sources, specs()).getString("grp", "mode");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("loop"), std::string::npos) << v.error().message;
}

TEST(OptionReaderTest, SecretValuesNeverAppearInErrors) {
  ConfigSources sources({ini("[DEFAULT]\nsecret_url = rabbit://u:pa$word@h/\n", "/a.conf")});
  auto v = OptionReader(sources, specs()).getString("DEFAULT", "secret_url");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message.find("word"), std::string::npos) << v.error().message;
  EXPECT_EQ(v.error().message.find("pa"), std::string::npos) << v.error().message;
  EXPECT_NE(v.error().message.find("/a.conf: [DEFAULT] secret_url:"), std::string::npos) << v.error().message;
}

}  // namespace
}  // namespace nwg::config

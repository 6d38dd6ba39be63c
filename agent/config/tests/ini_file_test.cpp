// IniFile follows oslo.config's iniparser line by line.
#include "config/ini_file.h"

#include <gtest/gtest.h>

namespace nwg::config {
namespace {

IniFile parseOk(std::string_view text) {
  auto f = IniFile::parse(text, "/etc/test.ini");
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  return f.ok() ? std::move(f).value() : IniFile();
}

std::string get(const IniFile& f, std::string_view s, std::string_view k) {
  const IniEntry* e = f.find(s, k);
  return e ? e->value : "<absent>";
}

TEST(IniFileTest, KeyValueWithOrWithoutSpacesAndColon) {
  auto f = parseOk("[DEFAULT]\na=1\nb = 2\nc:3\nd : 4\ne = x=y\nf = a:b\ng: p=q\n");
  EXPECT_EQ(get(f, "DEFAULT", "a"), "1");
  EXPECT_EQ(get(f, "DEFAULT", "b"), "2");
  EXPECT_EQ(get(f, "DEFAULT", "c"), "3");
  EXPECT_EQ(get(f, "DEFAULT", "d"), "4");
  EXPECT_EQ(get(f, "DEFAULT", "e"), "x=y");
  EXPECT_EQ(get(f, "DEFAULT", "f"), "a:b");  // '=' before ':' splits at '='
  EXPECT_EQ(get(f, "DEFAULT", "g"), "p=q");  // ':' before '=' splits at ':'
}

TEST(IniFileTest, CommentsAreWholeLinesOnly) {
  auto f = parseOk("# comment\n; other\n[s]\n#x = 1\ny = 2 # not a comment\n");
  EXPECT_EQ(get(f, "s", "x"), "<absent>");
  EXPECT_EQ(get(f, "s", "y"), "2 # not a comment");
}

TEST(IniFileTest, ContinuationLinesJoinWithNewlines) {
  auto f = parseOk("[s]\nlist = a,\n  b,\n\tc\nnext = 1\n");
  EXPECT_EQ(get(f, "s", "list"), "a,\nb,\nc");
  EXPECT_EQ(get(f, "s", "next"), "1");
}

TEST(IniFileTest, BlankLineEndsAValueSoIndentedLineAfterItIsAnError) {
  auto f = IniFile::parse("[s]\na = 1\n\n  b\n", "f.ini");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message, "f.ini:4: unexpected continuation line (indented, but no option before it)");
}

TEST(IniFileTest, QuotedValuesAreUnquoted) {
  auto f = parseOk("[s]\na = \"x y\"\nb = 'z'\nc = \"mixed'\nd = \"\n");
  EXPECT_EQ(get(f, "s", "a"), "x y");
  EXPECT_EQ(get(f, "s", "b"), "z");
  EXPECT_EQ(get(f, "s", "c"), "\"mixed'");
  EXPECT_EQ(get(f, "s", "d"), "\"");
}

TEST(IniFileTest, LastAssignmentWinsAndEmptyValueIsEmpty) {
  auto f = parseOk("[s]\na = 1\na = 2\nb =\n");
  EXPECT_EQ(get(f, "s", "a"), "2");
  EXPECT_EQ(get(f, "s", "b"), "");
  EXPECT_EQ(f.find("s", "a")->line, 3);
}

TEST(IniFileTest, SectionNamesAreCaseInsensitiveExceptDefault) {
  auto f = parseOk("[AGENT]\na = 1\n[agent]\nb = 2\n[default]\nc = 3\n");
  EXPECT_EQ(get(f, "agent", "a"), "1");
  EXPECT_EQ(get(f, "Agent", "b"), "2");
  EXPECT_EQ(f.sectionSpelling("agent"), "AGENT");
  EXPECT_EQ(get(f, "DEFAULT", "c"), "<absent>");  // [default] is a group named "default", not DEFAULT
  EXPECT_EQ(get(f, "default", "c"), "3");
}

TEST(IniFileTest, CrLfAndTrailingSpacesAreIgnored) {
  auto f = parseOk("[s]\r\na = 1  \r\n");
  EXPECT_EQ(get(f, "s", "a"), "1");
}

TEST(IniFileTest, KeysAreCaseSensitive) {
  auto f = parseOk("[s]\nHost = x\n");
  EXPECT_EQ(get(f, "s", "host"), "<absent>");
}

TEST(IniFileTest, ErrorsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"[s\n", "f.ini:1: section header is missing its closing ']'"},
      {"[]\n", "f.ini:1: empty section name '[]'"},
      {"a = 1\n", "f.ini:1: option 'a' appears before any [section] header"},
      {"[s]\njunk\n", "f.ini:2: not an option assignment (expected 'name = value')"},
      {"[s]\n = 3\n", "f.ini:2: unexpected continuation line (indented, but no option before it)"},
      {"[s]\n= 3\n", "f.ini:2: option assignment without a name"},
  };
  for (const auto& c : cases) {
    auto f = IniFile::parse(c.text, "f.ini");
    ASSERT_FALSE(f.ok()) << c.text;
    EXPECT_EQ(f.error().message, c.message) << c.text;
  }
}

TEST(IniFileTest, MissingFileIsAnErrorNamingIt) {
  auto f = IniFile::load("/nonexistent/dir/agent.ini");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("/nonexistent/dir/agent.ini"), std::string::npos);
}

TEST(IniFileTest, NoTrailingNewline) {
  auto f = parseOk("[s]\na = 1");
  EXPECT_EQ(get(f, "s", "a"), "1");
}

}  // namespace
}  // namespace nwg::config

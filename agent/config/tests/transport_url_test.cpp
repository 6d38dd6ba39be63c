// transport_url parsing as oslo.messaging parses it; the password never appears in text.
#include "config/transport_url.h"

#include <gtest/gtest.h>

#include <sstream>

namespace nwg::config {
namespace {

TransportUrl parseOk(std::string_view text) {
  auto u = TransportUrl::parse(text);
  EXPECT_TRUE(u.ok()) << (u.ok() ? "" : u.error().message);
  return u.ok() ? std::move(u).value() : TransportUrl();
}

TEST(TransportUrlTest, SingleHost) {
  auto u = parseOk("rabbit://neutron:secret@10.0.0.5:5673/openstack");
  ASSERT_EQ(u.hosts().size(), 1u);
  EXPECT_EQ(u.scheme(), "rabbit");
  EXPECT_EQ(u.hosts()[0].host, "10.0.0.5");
  EXPECT_EQ(u.hosts()[0].port, 5673);
  EXPECT_EQ(u.hosts()[0].username, "neutron");
  EXPECT_EQ(u.hosts()[0].password, "secret");
  EXPECT_EQ(u.virtualHost(), "openstack");
}

TEST(TransportUrlTest, DefaultPortIsLeftToTheTransport) {
  auto u = parseOk("rabbit://u:p@broker/");
  EXPECT_EQ(u.hosts()[0].port, 0);
  EXPECT_EQ(u.hosts()[0].portOr(TransportUrl::kDefaultPort), 5672);
  EXPECT_EQ(u.hosts()[0].address(TransportUrl::kDefaultPort), "broker:5672");
  EXPECT_EQ(u.virtualHost(), "/");
}

TEST(TransportUrlTest, SeveralHostsWithTheirOwnCredentials) {
  auto u = parseOk("rabbit://a:pa@h1:5672,b:pb@h2,c:pc@[fd00::2]:5673/vh");
  ASSERT_EQ(u.hosts().size(), 3u);
  EXPECT_EQ(u.hosts()[1].host, "h2");
  EXPECT_EQ(u.hosts()[1].username, "b");
  EXPECT_EQ(u.hosts()[1].password, "pb");
  EXPECT_EQ(u.hosts()[2].host, "fd00::2");
  EXPECT_EQ(u.hosts()[2].port, 5673);
  EXPECT_EQ(u.hosts()[2].address(5672), "[fd00::2]:5673");
}

TEST(TransportUrlTest, Ipv6WithoutPort) {
  auto u = parseOk("rabbit://u:p@[::1]/");
  EXPECT_EQ(u.hosts()[0].host, "::1");
  EXPECT_EQ(u.hosts()[0].port, 0);
}

TEST(TransportUrlTest, PercentEncodingInCredentialsAndVhost) {
  auto u = parseOk("rabbit://us%40er:p%2Fa%3As%25s%2C@h/v%2Fh");
  EXPECT_EQ(u.hosts()[0].username, "us@er");
  EXPECT_EQ(u.hosts()[0].password, "p/a:s%s,");
  EXPECT_EQ(u.virtualHost(), "v/h");
}

TEST(TransportUrlTest, InvalidEscapesStayAsTheyAreLikePythonUnquote) {
  auto u = parseOk("rabbit://u:100%zz%4@h/");
  EXPECT_EQ(u.hosts()[0].password, "100%zz%4");
}

TEST(TransportUrlTest, PasswordMayContainAtSignsAndColons) {
  auto u = parseOk("rabbit://u:p@ss:w0rd@h:1/");
  EXPECT_EQ(u.hosts()[0].username, "u");
  EXPECT_EQ(u.hosts()[0].password, "p@ss:w0rd");
  EXPECT_EQ(u.hosts()[0].host, "h");
}

TEST(TransportUrlTest, NoCredentialsMeansGuest) {
  auto u = parseOk("rabbit://broker:5672/");
  EXPECT_EQ(u.hosts()[0].username, "guest");
  EXPECT_EQ(u.hosts()[0].password, "guest");
  EXPECT_FALSE(u.hosts()[0].has_credentials);
}

TEST(TransportUrlTest, BareSchemeIsLocalhost) {
  auto u = parseOk("rabbit://");
  ASSERT_EQ(u.hosts().size(), 1u);
  EXPECT_EQ(u.hosts()[0].host, "localhost");
  EXPECT_EQ(u.virtualHost(), "/");
  EXPECT_EQ(TransportUrl().hosts()[0].host, "localhost");
}

TEST(TransportUrlTest, VhostSlashForms) {
  EXPECT_EQ(parseOk("rabbit://h").virtualHost(), "/");
  EXPECT_EQ(parseOk("rabbit://h/").virtualHost(), "/");
  EXPECT_EQ(parseOk("rabbit://h/%2F").virtualHost(), "/");
  EXPECT_EQ(parseOk("rabbit://h//").virtualHost(), "/");
  EXPECT_EQ(parseOk("rabbit://h/neutron?ssl=1").virtualHost(), "neutron");
}

TEST(TransportUrlTest, QueryIsParsed) {
  auto u = parseOk("rabbit://h/v?a=1&b=x%20y&a=2");
  EXPECT_EQ(u.query().at("a"), "1,2");
  EXPECT_EQ(u.query().at("b"), "x y");
}

TEST(TransportUrlTest, RedactedFormattingHidesEveryPassword) {
  auto u = parseOk("rabbit://a:topsecret@h1:5672,b:alsosecret@[::1]/vh");
  EXPECT_EQ(u.redacted(), "rabbit://a:***@h1:5672,b:***@[::1]/vh");
  std::ostringstream out;
  out << u;
  EXPECT_EQ(out.str(), u.redacted());
  EXPECT_EQ(out.str().find("secret"), std::string::npos);
}

TEST(TransportUrlTest, RedactedFormParsesBackToTheSameHostsAndVhost) {
  for (const char* text : {"rabbit://us%3Aer:p%40ss@h:1,x@[fd00::1]/v%2Fh%20 ", "rabbit://", "rabbit://h//",
                           "rabbit://u:p@h/%zz%"}) {
    auto u = TransportUrl::parse(text);
    ASSERT_TRUE(u.ok()) << text;
    auto back = TransportUrl::parse(u->redacted());
    ASSERT_TRUE(back.ok()) << u->redacted();
    EXPECT_EQ(back->virtualHost(), u->virtualHost()) << text;
    ASSERT_EQ(back->hosts().size(), u->hosts().size());
    for (size_t i = 0; i < u->hosts().size(); ++i) {
      EXPECT_EQ(back->hosts()[i].host, u->hosts()[i].host);
      EXPECT_EQ(back->hosts()[i].username, u->hosts()[i].username);
      EXPECT_EQ(back->hosts()[i].password, u->hosts()[i].has_credentials ? "***" : "guest");
    }
  }
}

TEST(TransportUrlTest, BadUrlsAreClearErrorsWithoutThePassword) {
  struct Case {
    const char* url;
    const char* expect;
  } cases[] = {
      {"guest:hunter2@localhost", "has no scheme"},
      {"amqp://u:hunter2@h/", "scheme 'amqp' is not supported"},
      {"rabbit://u:hunter2@h:notaport/", "host 1: the port is not a number"},
      {"rabbit://u:hunter2@h:0/", "host 1: the port is not a number"},
      {"rabbit://u:hunter2@h:65536/", "host 1: the port is not a number"},
      {"rabbit://u:hunter2@[::1/", "host 1: '[' without a closing ']'"},
      {"rabbit://u:hunter2@[::1]x/", "host 1: unexpected text after ']'"},
      {"rabbit://u:hunter2@[]:5672/", "host 1: empty IPv6 address"},
      {"rabbit://ok:p@h,u:hunter2@:5672/", "host 2 has no host name"},
      {"rabbit://u:hunter2/x@h/", "the port is not a number"},  // unencoded '/' in the password
  };
  for (const auto& c : cases) {
    auto u = TransportUrl::parse(c.url);
    ASSERT_FALSE(u.ok()) << c.url;
    EXPECT_NE(u.error().message.find(c.expect), std::string::npos) << c.url << " -> " << u.error().message;
    EXPECT_EQ(u.error().message.find("hunter2"), std::string::npos) << u.error().message;
  }
}

}  // namespace
}  // namespace nwg::config

// Passwords in URLs never reach a log line.
#include "logging/secret_redactor.h"

#include <gtest/gtest.h>

namespace nwg::logging {
namespace {

TEST(SecretRedactorTest, RedactsSingleHostPassword) {
  EXPECT_EQ(redactUrlCredentials("connecting to rabbit://neutron:s3cr3t@10.0.0.1:5672/vh now"),
            "connecting to rabbit://neutron:***@10.0.0.1:5672/vh now");
}

TEST(SecretRedactorTest, RedactsEveryHostOfAMultiHostUrl) {
  EXPECT_EQ(redactUrlCredentials("rabbit://a:p1@h1:5672,b:p2@[::1]:5673/"),
            "rabbit://a:***@h1:5672,b:***@[::1]:5673/");
}

TEST(SecretRedactorTest, PasswordWithAtSignIsRedactedWhole) {
  // oslo splits user info from host at the last '@'.
  EXPECT_EQ(redactUrlCredentials("rabbit://u:p@ss@host/"), "rabbit://u:***@host/");
}

TEST(SecretRedactorTest, LeavesTextWithoutCredentialsAlone) {
  EXPECT_EQ(redactUrlCredentials("no url here"), "no url here");
  EXPECT_EQ(redactUrlCredentials("http://example.com/a:b@c"), "http://example.com/a:b@c");
  EXPECT_EQ(redactUrlCredentials("rabbit://user@host/"), "rabbit://user@host/");
  EXPECT_EQ(redactUrlCredentials("ends with ://"), "ends with ://");
}

TEST(SecretRedactorTest, RedactsSeveralUrlsInOneLine) {
  EXPECT_EQ(redactUrlCredentials("'rabbit://u:x@h/' and \"rabbit://v:y@g\""),
            "'rabbit://u:***@h/' and \"rabbit://v:***@g\"");
}

}  // namespace
}  // namespace nwg::logging

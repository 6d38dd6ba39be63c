// Bounds on broker JSON: size and depth are refused before parsing, at every level that is parsed
// (the body, the inner oslo.message, a reply's failure), and a hostile depth never recurses.
#include "rpc/json_limits.h"

#include <gtest/gtest.h>

#include "rpc/envelope.h"
#include "rpc/remote_error.h"
#include "rpc/rpc_request.h"

namespace nwg::rpc {
namespace {

using nlohmann::json;

std::string nested(size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(JsonLimitsTest, DepthIsCountedOutsideStringsOnly) {
  EXPECT_TRUE(checkJsonDepth(nested(64), 64).ok());
  EXPECT_FALSE(checkJsonDepth(nested(65), 64).ok());
  EXPECT_TRUE(checkJsonDepth(R"({"a": "[[[[[[[[[[", "b": [1, {"c": "\"[[[["}]})", 3).ok());
  EXPECT_FALSE(checkJsonDepth(R"({"a": [{"b": [1]}]})", 3).ok());
  EXPECT_TRUE(checkJsonDepth(R"({"a": [{"b": [1]}]})", 4).ok());
  EXPECT_TRUE(checkJsonDepth(R"(["\\", [1]])", 2).ok());  // an escaped backslash ends before the quote
}

TEST(JsonLimitsTest, SizeIsCheckedBeforeAnythingElse) {
  JsonLimits small{16, 64};
  EXPECT_TRUE(parseJsonWithin(R"({"a": 1})", small, "body").ok());
  auto big = parseJsonWithin(R"({"a": "0123456789abcdef"})", small, "message body");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().message, "message body is 25 bytes, more than the 16 accepted");
}

TEST(JsonLimitsTest, AMillionDeepCastIsRefusedWithoutOverflowingTheStack) {
  const std::string deep = nested(1000000);
  // As a body, as the inner message of an envelope, and as the args of a request.
  auto body = Envelope::decode(deep);
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.error().message.find("nested deeper than 64"), std::string::npos) << body.error().message;
  const std::string enveloped = json{{"oslo.version", "2.0"}, {"oslo.message", deep}}.dump();
  auto inner = Envelope::decode(enveloped);
  ASSERT_FALSE(inner.ok());
  EXPECT_NE(inner.error().message.find("oslo.message"), std::string::npos) << inner.error().message;
  const std::string cast = R"({"method": "hubs_changed", "args": {"hub_ids": )" + deep + "}}";
  const std::string envelope_of_cast = json{{"oslo.version", "2.0"}, {"oslo.message", cast}}.dump();
  EXPECT_FALSE(Envelope::decode(envelope_of_cast).ok());
  EXPECT_FALSE(RemoteError::parse(nested(1000000, '{', '}')).ok());
}

TEST(JsonLimitsTest, LegitimateMessagesPass) {
  RpcRequest r;
  r.method = "get_hubs";
  r.args = {{"host", "net-1"}, {"hub_ids", {json::array({json::object({{"a", {1, 2, {3}}}})})}}};
  auto again = Envelope::decode(Envelope::encode(r.toInner()));
  ASSERT_TRUE(again.ok()) << again.error().message;
  // A 5 MB string (the interop suite's largest) is far below the size bound.
  const std::string blob(5 << 20, 'x');
  EXPECT_TRUE(Envelope::decode(Envelope::encode(json{{"blob", blob}})).ok());
}

}  // namespace
}  // namespace nwg::rpc

// Pure codecs: envelope, request/reply, remote errors, context, timestamps, ids, duplicate filter.
#include <gtest/gtest.h>

#include <set>

#include "rpc/duplicate_filter.h"
#include "rpc/envelope.h"
#include "rpc/remote_error.h"
#include "rpc/request_context.h"
#include "rpc/rpc_error.h"
#include "rpc/rpc_reply.h"
#include "rpc/rpc_request.h"
#include "rpc/uuid.h"
#include "rpc/wire_time.h"

namespace nwg::rpc {
namespace {

using nlohmann::json;

// Shape check without std::regex (GCC 12 warns inside <regex> under the sanitizers): in `shape`,
// 'h' is a lower-case hex digit, 'd' a decimal digit, '?' any character; everything else is literal.
bool hasShape(const std::string& text, const std::string& shape) {
  if (text.size() != shape.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char s = shape[i];
    if (s == 'h'   ? !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
        : s == 'd' ? !(c >= '0' && c <= '9')
                   : s != '?' && s != c) {
      return false;
    }
  }
  return true;
}

TEST(EnvelopeTest, EncodesAsOsloDoes) {
  const std::string body = Envelope::encode(json{{"method", "m"}});
  const json outer = json::parse(body);
  ASSERT_EQ(outer.size(), 2u);
  EXPECT_EQ(outer["oslo.version"], "2.0");
  ASSERT_TRUE(outer["oslo.message"].is_string());  // double encoding
  EXPECT_EQ(json::parse(outer["oslo.message"].get<std::string>()), (json{{"method", "m"}}));
}

TEST(EnvelopeTest, NonAsciiIsEscapedAndRoundTrips) {
  const json inner = {{"name",
                       "h\xC3\xBC"
                       "b \xE2\x9C\x93 \xF0\x9F\x94\x91"}};
  const std::string body = Envelope::encode(inner);
  for (char c : body)
    ASSERT_LT(static_cast<unsigned char>(c), 0x80) << body;  // ensure_ascii, as oslo's jsonutils
  auto back = Envelope::decode(body);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, inner);
}

TEST(EnvelopeTest, InvalidUtf8IsReplacedNotFatal) {
  const json inner = {{"bad", std::string("a\xFF"
                                          "b")}};
  auto back = Envelope::decode(Envelope::encode(inner));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)["bad"],
            "a\xEF\xBF\xBD"
            "b");
}

TEST(EnvelopeTest, LegacyUnenvelopedDictIsTheMessage) {
  auto inner = Envelope::decode(R"({"method": "ping", "args": {}})");
  ASSERT_TRUE(inner.ok());
  EXPECT_EQ((*inner)["method"], "ping");
}

TEST(EnvelopeTest, RawUtf8AndCompactJsonAreAccepted) {
  auto inner =
      Envelope::decode("{\"oslo.version\":\"2.0\",\"oslo.message\":\"{\\\"k\\\":\\\"\xC3\xA9\\\"}\"}");
  ASSERT_TRUE(inner.ok()) << inner.error().message;
  EXPECT_EQ((*inner)["k"], "\xC3\xA9");
}

TEST(EnvelopeTest, BadBodiesAreErrors) {
  for (const char* body :
       {"", "not json", "[1,2]", "\"str\"", R"({"oslo.version": "3.0", "oslo.message": "{}"})",
        R"({"oslo.version": "2.1", "oslo.message": "{}"})", R"({"oslo.version": 2, "oslo.message": "{}"})",
        R"({"oslo.version": "2.0", "oslo.message": {}})", R"({"oslo.version": "2.0", "oslo.message": "[]"})",
        R"({"oslo.version": "2.0", "oslo.message": "{"})",
        R"({"oslo.version": "x.0", "oslo.message": "{}"})"}) {
    EXPECT_FALSE(Envelope::decode(body).ok()) << body;
  }
  EXPECT_TRUE(Envelope::decode(R"({"oslo.version": "2", "oslo.message": "{}"})").ok());
  EXPECT_TRUE(Envelope::decode(R"({"oslo.version": "02.00", "oslo.message": "{}"})").ok());
}

TEST(EnvelopeTest, LargeBodiesRoundTrip) {
  json inner = {{"blob", std::string(5 * 1024 * 1024, 'x')}, {"list", json::array()}};
  for (int i = 0; i < 10000; ++i) inner["list"].push_back(i);
  auto back = Envelope::decode(Envelope::encode(inner));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, inner);
}

TEST(RpcRequestTest, CallHasOslosKeys) {
  RpcRequest r;
  r.method = "get_hubs";
  r.args = {{"host", "h"}};
  r.version = "1.3";
  r.msg_id = "m1";
  r.reply_q = "reply_x";
  r.unique_id = "u1";
  r.context = {{"is_admin", true}};
  const json inner = r.toInner();
  EXPECT_EQ(inner, (json{{"method", "get_hubs"},
                         {"args", {{"host", "h"}}},
                         {"version", "1.3"},
                         {"_msg_id", "m1"},
                         {"_reply_q", "reply_x"},
                         {"_timeout", nullptr},
                         {"_unique_id", "u1"},
                         {"_context_is_admin", true}}));
}

TEST(RpcRequestTest, CastHasNoCallKeysAndNamespaceOnlyWhenSet) {
  RpcRequest r;
  r.method = "hubs_changed";
  r.unique_id = "u";
  json inner = r.toInner();
  EXPECT_FALSE(inner.contains("_msg_id"));
  EXPECT_FALSE(inner.contains("_reply_q"));
  EXPECT_FALSE(inner.contains("_timeout"));
  EXPECT_FALSE(inner.contains("namespace"));
  EXPECT_FALSE(inner.contains("version"));
  EXPECT_EQ(inner["args"], json::object());
  r.ns = "wg_ns";
  EXPECT_EQ(r.toInner()["namespace"], "wg_ns");
}

TEST(RpcRequestTest, DecodingErrors) {
  EXPECT_FALSE(RpcRequest::fromInner(json::array()).ok());
  EXPECT_FALSE(RpcRequest::fromInner(json{{"args", json::object()}}).ok());
  EXPECT_FALSE(RpcRequest::fromInner(json{{"method", 3}}).ok());
  EXPECT_FALSE(RpcRequest::fromInner(json{{"method", "m"}, {"args", json::array()}}).ok());
  EXPECT_FALSE(RpcRequest::fromInner(json{{"method", "m"}, {"version", 1}}).ok());
  EXPECT_FALSE(RpcRequest::fromInner(json{{"method", "m"}, {"_msg_id", "x"}}).ok());  // no _reply_q
  auto ok = RpcRequest::fromInner(
      json{{"method", "m"}, {"args", nullptr}, {"_context_a", 1}, {"namespace", nullptr}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->args, json::object());
  EXPECT_EQ(ok->context, (json{{"a", 1}}));
  EXPECT_FALSE(ok->ns.has_value());
}

TEST(RpcReplyTest, MissingEndingIsFalseAndEmptyFailureIsNone) {
  auto r = RpcReply::fromInner(json{{"_msg_id", "m"}, {"result", 5}, {"failure", ""}});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ending);
  EXPECT_FALSE(r->failure.has_value());
  EXPECT_EQ(r->result, 5);
  EXPECT_FALSE(RpcReply::fromInner(json{{"result", 1}}).ok());
  EXPECT_FALSE(RpcReply::fromInner(json{{"_msg_id", "m"}, {"failure", 3}}).ok());
  auto hb = RpcReply::fromInner(
      json{{"_msg_id", "m"}, {"result", nullptr}, {"failure", nullptr}, {"ending", false}});
  ASSERT_TRUE(hb.ok());
  EXPECT_TRUE(hb->isHeartbeat());
}

TEST(RemoteErrorTest, ParsesAndClassifies) {
  auto e = RemoteError::parse(
      R"({"class": "NoSuchMethod", "module": "oslo_messaging.rpc.dispatcher", "message": "m", "tb": ["a"], "args": ["m"], "kwargs": {}})");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->isNoSuchMethod());
  EXPECT_EQ(RpcError::fromRemote(*e, "t.m").kind, RpcErrorKind::kNoSuchMethod);
  EXPECT_EQ(RpcError::fromRemote(
                RemoteError::make("UnsupportedVersion", "oslo_messaging.rpc.dispatcher", "x"), "t.m")
                .kind,
            RpcErrorKind::kUnsupportedVersion);
  const RpcError other = RpcError::fromRemote(RemoteError::make("NoSuchMethod", "mymodule", "x"), "t.m");
  EXPECT_EQ(other.kind, RpcErrorKind::kRemoteError);  // same class name, different module
  EXPECT_EQ(other.message, "t.m: remote mymodule.NoSuchMethod: x");
  EXPECT_FALSE(RemoteError::parse("not json").ok());
  EXPECT_FALSE(RemoteError::parse("{}").ok());
  EXPECT_FALSE(RemoteError::parse("[1]").ok());
}

TEST(WireTimeTest, PythonDatetimeFormatsWithMicroseconds) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1795671909)) +
                 std::chrono::microseconds(641218);
  EXPECT_EQ(formatUtcTime(t, 'T'), "2026-11-26T05:45:09.641218");
  EXPECT_EQ(formatUtcTime(t, ' '), "2026-11-26 05:45:09.641218");
  const auto whole = std::chrono::system_clock::time_point(std::chrono::seconds(1795671909));
  EXPECT_EQ(formatUtcTime(whole, 'T'), "2026-11-26T05:45:09.000000");  // neutron needs the fraction
}

TEST(RequestContextTest, AdminContextIsFreshEachTime) {
  const json a = RequestContext::admin();
  const json b = RequestContext::admin();
  EXPECT_NE(a["request_id"], b["request_id"]);
  EXPECT_TRUE(hasShape(a["request_id"].get<std::string>(), "req-hhhhhhhh-hhhh-4hhh-?hhh-hhhhhhhhhhhh"));
  EXPECT_TRUE(hasShape(a["timestamp"].get<std::string>(), "dddd-dd-dd dd:dd:dd.dddddd"));
  EXPECT_EQ(a["is_admin"], true);
  EXPECT_EQ(a["user_identity"], "- - - - -");
}

TEST(RequestContextTest, FlattenAndExtract) {
  json inner = {{"method", "m"}};
  RequestContext::flattenInto(json{{"a", 1}, {"b", nullptr}}, inner);
  EXPECT_EQ(inner["_context_a"], 1);
  EXPECT_TRUE(inner.contains("_context_b"));
  EXPECT_EQ(RequestContext::extractFrom(inner), (json{{"a", 1}, {"b", nullptr}}));
  EXPECT_EQ(inner, (json{{"method", "m"}}));
}

TEST(UuidTest, FormatsAndUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string h = newUuidHex();
    ASSERT_TRUE(hasShape(h, "hhhhhhhhhhhh4hhh?hhhhhhhhhhhhhhh")) << h;
    ASSERT_NE(std::string("89ab").find(h[16]), std::string::npos) << h;  // RFC 4122 variant
    ASSERT_TRUE(seen.insert(h).second);
  }
  EXPECT_EQ(newUuidString().size(), 36u);
}

TEST(DuplicateFilterTest, RemembersTheLastSixteen) {
  DuplicateFilter f;
  EXPECT_TRUE(f.firstSeen("a"));
  EXPECT_FALSE(f.firstSeen("a"));
  for (int i = 0; i < 15; ++i) EXPECT_TRUE(f.firstSeen("x" + std::to_string(i)));
  EXPECT_FALSE(f.firstSeen("a"));  // 16th most recent: still remembered
  EXPECT_TRUE(f.firstSeen("y"));   // evicts "a"
  EXPECT_TRUE(f.firstSeen("a"));
  EXPECT_TRUE(f.firstSeen(""));
  EXPECT_TRUE(f.firstSeen(""));
}

}  // namespace
}  // namespace nwg::rpc

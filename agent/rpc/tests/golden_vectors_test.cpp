// Every captured oslo.messaging 14 / Neutron Zed message (tests/golden, copied from
// shared/protocol/oslo/golden) decodes, and what we encode decodes to the same inner message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "rpc/envelope.h"
#include "rpc/remote_error.h"
#include "rpc/request_context.h"
#include "rpc/rpc_reply.h"
#include "rpc/rpc_request.h"
#include "testing/testing.h"

namespace nwg::rpc {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json loadGolden(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

std::vector<fs::path> goldenFiles() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(NWG_RPC_GOLDEN_DIR)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The capture tool adds "failure_decoded" next to "failure"; it is not part of the message.
json expectedInner(const json& golden) {
  json inner = golden.at("oslo_message_decoded");
  inner.erase("failure_decoded");
  return inner;
}

// tests/golden is a copy of the shared protocol vectors (shared/protocol/oslo/golden): every file here
// must be byte-identical to the shared one of the same name, so a re-capture there cannot silently
// leave this copy behind. (Every shared vector is copied today; a file only there is drift too.)
//
// The shared vectors live outside this repository (beside it, in the workspace), so a checkout on its
// own cannot run this check: scripts/test looks for them and, when it finds them, sets
// NWG_SHARED_GOLDEN_DIR and NWG_REQUIRE_SHARED=1, which makes their absence here a failure; by hand
// (or without the workspace) the test skips, saying where it looked.
TEST(GoldenVectorsTest, OurCopyIsByteIdenticalToTheSharedVectors) {
  const std::string from_env = ::nwg::testing::env("NWG_SHARED_GOLDEN_DIR");
  const fs::path shared = from_env.empty() ? fs::path(NWG_SHARED_GOLDEN_DIR) : fs::path(from_env);
  if (!fs::is_directory(shared)) {
    if (::nwg::testing::env("NWG_REQUIRE_SHARED") == "1") FAIL() << "the shared protocol vectors are missing: " << shared;
    GTEST_SKIP() << "SKIPPED: the shared protocol vectors (outside this repository) are not at " << shared;
  }
  auto bytes = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  std::set<std::string> ours;
  for (const auto& path : goldenFiles()) {
    const std::string file = path.filename().string();
    ours.insert(file);
    const fs::path theirs = shared / file;
    ASSERT_TRUE(fs::exists(theirs)) << file << ": not among the shared vectors (" << shared << ")";
    EXPECT_EQ(bytes(path), bytes(theirs)) << file << ": differs from " << theirs << " (copy it again)";
  }
  for (const auto& e : fs::directory_iterator(shared)) {
    if (e.path().extension() != ".json") continue;
    EXPECT_TRUE(ours.count(e.path().filename().string()))
        << e.path().filename().string() << ": a shared vector missing from agent/rpc/tests/golden";
  }
}

TEST(GoldenVectorsTest, ThereAreVectors) {
  EXPECT_GE(goldenFiles().size(), 30u);
}

TEST(GoldenVectorsTest, EveryCapturedBodyDecodesToTheCapturedInnerMessage) {
  for (const auto& path : goldenFiles()) {
    SCOPED_TRACE(path.filename().string());
    const json golden = loadGolden(path);
    auto inner = Envelope::decode(golden.at("body").get<std::string>());
    ASSERT_TRUE(inner.ok()) << inner.error().message;
    EXPECT_EQ(*inner, expectedInner(golden));
    EXPECT_EQ(golden.at("properties").at("content_type"), "application/json");
  }
}

TEST(GoldenVectorsTest, RequestsRoundTripThroughOurCodec) {
  int requests = 0;
  for (const auto& path : goldenFiles()) {
    const json golden = loadGolden(path);
    const json inner = expectedInner(golden);
    if (!inner.contains("method")) continue;
    SCOPED_TRACE(path.filename().string());
    ++requests;
    auto request = RpcRequest::fromInner(inner);
    ASSERT_TRUE(request.ok()) << request.error().message;
    EXPECT_EQ(request->method, inner["method"]);
    EXPECT_EQ(request->isCall(), inner.contains("_msg_id"));
    EXPECT_EQ(request->toInner(), inner);
    // What we encode decodes to the same inner message.
    auto again = Envelope::decode(Envelope::encode(request->toInner()));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, inner);
    // Calls carry an expiration, casts and fanouts none (SPEC §3).
    EXPECT_EQ(golden["properties"].contains("expiration"), request->isCall());
  }
  EXPECT_GE(requests, 15);
}

TEST(GoldenVectorsTest, RepliesRoundTripAndFailuresParse) {
  int replies = 0, failures = 0;
  for (const auto& path : goldenFiles()) {
    const json golden = loadGolden(path);
    const json inner = expectedInner(golden);
    if (inner.contains("method")) continue;
    SCOPED_TRACE(path.filename().string());
    ++replies;
    auto reply = RpcReply::fromInner(inner);
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    EXPECT_EQ(reply->toInner(), inner);
    EXPECT_EQ(golden["amqp"]["exchange"], "");
    EXPECT_EQ(golden["amqp"]["mandatory"], true);
    if (reply->failure) {
      ++failures;
      auto remote = RemoteError::parse(*reply->failure);
      ASSERT_TRUE(remote.ok()) << remote.error().message;
      const json& decoded = golden["oslo_message_decoded"]["failure_decoded"];
      EXPECT_EQ(remote->class_name, decoded["class"]);
      EXPECT_EQ(remote->module, decoded["module"]);
      EXPECT_EQ(remote->message, decoded["message"]);
      EXPECT_EQ(remote->kwargs, decoded["kwargs"]);
      EXPECT_FALSE(remote->traceback.empty());
      auto back = RemoteError::parse(remote->serialize());
      ASSERT_TRUE(back.ok());
      EXPECT_EQ(back->class_name, remote->class_name);
      EXPECT_EQ(back->traceback, remote->traceback);
    }
  }
  EXPECT_GE(replies, 10);
  EXPECT_GE(failures, 4);
}

TEST(GoldenVectorsTest, OurAdminContextHasNeutronsKeysAndValues) {
  const json golden = loadGolden(fs::path(NWG_RPC_GOLDEN_DIR) / "neutron_report_state_request.json");
  json inner = expectedInner(golden);
  const json captured = RequestContext::extractFrom(inner);
  const json ours = RequestContext::admin();
  ASSERT_EQ(captured.size(), 23u);
  ASSERT_EQ(ours.size(), captured.size());
  for (auto it = captured.begin(); it != captured.end(); ++it) {
    ASSERT_TRUE(ours.contains(it.key())) << it.key();
    if (it.key() == "request_id" || it.key() == "timestamp") continue;
    EXPECT_EQ(ours[it.key()], it.value()) << it.key();
  }
  EXPECT_EQ(inner.count("_context_is_admin"), 0u);  // extracted
}

}  // namespace
}  // namespace nwg::rpc

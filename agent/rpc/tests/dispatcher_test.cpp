// oslo's dispatch rules: namespaces, version compatibility, NoSuchMethod vs UnsupportedVersion.
#include <gtest/gtest.h>

#include "rpc/rpc_dispatcher.h"

namespace nwg::rpc {
namespace {

using nlohmann::json;

TEST(VersionCompatibilityTest, OslosRules) {
  struct Case {
    const char* imp;
    const char* req;
    bool ok;
  } cases[] = {
      {"1.2", "1.0", true},  {"1.2", "1.2", true},   {"1.2", "1.3", false},   {"1.2", "2.0", false},
      {"2.0", "1.9", false}, {"1.2.1", "1.2", true}, {"1.2", "1.2.1", false}, {"1.2.3", "1.2.3", true},
      {"1.10", "1.9", true}, {"1.9", "1.10", false}, {"1.3", "1.2.9", true},
  };
  for (const auto& c : cases) {
    auto r = versionIsCompatible(c.imp, c.req);
    ASSERT_TRUE(r.ok()) << c.imp << " " << c.req;
    EXPECT_EQ(*r, c.ok) << c.imp << " vs " << c.req;
  }
  EXPECT_FALSE(versionIsCompatible("1.0", "1").ok());
  EXPECT_FALSE(versionIsCompatible("1.0", "one.two").ok());
}

RpcRequest request(std::string method, std::optional<std::string> version,
                   std::optional<std::string> ns = std::nullopt) {
  RpcRequest r;
  r.method = std::move(method);
  r.version = std::move(version);
  r.ns = std::move(ns);
  r.args = {{"x", 2}};
  return r;
}

RpcDispatcher makeDispatcher(std::vector<std::string>* trace) {
  RpcEndpoint v12;
  v12.version = "1.2";
  v12.methods["double"] = [](const json&, const json& args) {
    return MethodOutcome(args["x"].get<int>() * 2);
  };
  v12.methods["fail"] = [](const json&, const json&) {
    return MethodOutcome(RemoteError::make("WgError", "networking_wireguard", "boom"));
  };
  RpcEndpoint v13;
  v13.version = "1.3";
  v13.methods["double"] = [trace](const json&, const json&) {
    trace->push_back("v13");
    return MethodOutcome(json("v13"));
  };
  v13.methods["newer"] = [](const json&, const json&) { return MethodOutcome(json("new")); };
  RpcEndpoint ns;
  ns.ns = "wg_ns";
  ns.version = "1.0";
  ns.methods["double"] = [](const json&, const json&) { return MethodOutcome(json("namespaced")); };
  return RpcDispatcher({v12, v13, ns});
}

TEST(RpcDispatcherTest, FirstCompatibleEndpointWithTheMethodWins) {
  std::vector<std::string> trace;
  auto d = makeDispatcher(&trace);
  auto out = d.dispatch(request("double", "1.1"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.result(), 4);
  EXPECT_EQ(d.dispatch(request("double", "1.3")).result(), "v13");
  EXPECT_EQ(d.dispatch(request("newer", "1.0")).result(), "new");      // v12 lacks it, v13 is compatible too
  EXPECT_EQ(d.dispatch(request("double", std::nullopt)).result(), 4);  // absent version means 1.0
}

TEST(RpcDispatcherTest, NoSuchMethodWhenACompatibleEndpointLacksIt) {
  std::vector<std::string> trace;
  auto out = makeDispatcher(&trace).dispatch(request("no_such_method", "1.0"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error()->class_name, "NoSuchMethod");
  EXPECT_EQ(out.error()->module, "oslo_messaging.rpc.dispatcher");
  EXPECT_EQ(out.error()->message, "Endpoint does not support RPC method no_such_method");  // golden text
}

TEST(RpcDispatcherTest, UnsupportedVersionWhenNoEndpointIsCompatible) {
  std::vector<std::string> trace;
  auto out = makeDispatcher(&trace).dispatch(request("get_str", "2.0"));
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(out.error()->isUnsupportedVersion());
  EXPECT_EQ(out.error()->message, "Endpoint does not support RPC version 2.0. Attempted method: get_str");
  EXPECT_TRUE(makeDispatcher(&trace).dispatch(request("newer", "1.4")).error()->isUnsupportedVersion());
}

TEST(RpcDispatcherTest, NamespacesMustMatch) {
  std::vector<std::string> trace;
  auto d = makeDispatcher(&trace);
  EXPECT_EQ(d.dispatch(request("double", "1.0", "wg_ns")).result(), "namespaced");
  EXPECT_TRUE(d.dispatch(request("double", "1.0", "other")).error()->isUnsupportedVersion());
}

TEST(RpcDispatcherTest, MethodFailuresAndMalformedVersions) {
  std::vector<std::string> trace;
  auto d = makeDispatcher(&trace);
  auto failed = d.dispatch(request("fail", "1.0"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error()->class_name, "WgError");
  auto bad = d.dispatch(request("double", "x.y"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error()->class_name, "ValueError");
  EXPECT_EQ(bad.error()->module, "builtins");
}

TEST(RpcDispatcherTest, AnEndpointWithoutVersionAcceptsEveryVersion) {
  RpcEndpoint any;
  any.methods["m"] = [](const json&, const json&) { return MethodOutcome(json(1)); };
  RpcDispatcher d({any});
  EXPECT_TRUE(d.dispatch(request("m", "7.3")).ok());
  EXPECT_TRUE(RpcDispatcher().dispatch(request("m", "1.0")).error()->isUnsupportedVersion());
}

}  // namespace
}  // namespace nwg::rpc

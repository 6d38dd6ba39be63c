#include "reconcile/hub_spec.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "reconcile/names.h"

namespace nwg::reconcile {
namespace {

using nlohmann::json;

const char* kSpokeKey = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
const char* kSpokeKey2 = "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=";

json hub(const std::string& id = "c0ffee00-1111-2222-3333-444455556666") {
  return {{"id", id},
          {"project_id", "9a8b7c6d5e4f"},
          {"network_id", "5f1c0000-0000-0000-0000-000000000000"},
          {"admin_state_up", true},
          {"status", "DOWN"},
          {"public_key", nullptr},
          {"endpoint", nullptr},
          {"root_device", false},
          {"mtu", 1450},
          {"router_id", nullptr},
          {"fixed_ips",
           {{{"ip_address", "10.10.0.1"},
             {"subnet_id", "s1"},
             {"cidr", "10.10.0.0/24"},
             {"gateway_ip", "10.10.0.1"},
             {"ip_version", 4}},
            {{"ip_address", "fd00:10::1"},
             {"subnet_id", "s2"},
             {"cidr", "fd00:10::/64"},
             {"gateway_ip", nullptr},
             {"ip_version", 6}}}},
          {"spokes",
           {{{"id", "bbbb0000-0000-0000-0000-000000000002"},
             {"public_key", kSpokeKey2},
             {"endpoint", nullptr},
             {"fixed_ips", {{{"ip_address", "10.10.0.6"}, {"subnet_id", "s1"}}}}},
            {{"id", "aaaa0000-0000-0000-0000-000000000001"},
             {"public_key", kSpokeKey},
             {"endpoint", "198.51.100.2:51820"},
             {"fixed_ips",
              {{{"ip_address", "10.10.0.5"}, {"subnet_id", "s1"}},
               {{"ip_address", "fd00:10::5"}, {"subnet_id", "s2"}}}}}}}};
}

TEST(DecodeHubs, LowOrderSpokeKeysAreLeftOut) {
  for (const char* low : {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",     // all zero
                          "4Ot6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuAA="}) {  // order 8
    json h = hub();
    h["spokes"][0]["public_key"] = low;
    auto decoded = decodeHubs(json{{"hubs", {h}}});
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    ASSERT_EQ(decoded->hubs.size(), 1u);
    ASSERT_EQ(decoded->hubs[0].spokes.size(), 1u) << low;
    EXPECT_EQ(decoded->hubs[0].spokes[0].port_id, "aaaa0000-0000-0000-0000-000000000001");
    ASSERT_EQ(decoded->problems.size(), 1u);
    EXPECT_NE(decoded->problems[0].reason.find("low-order"), std::string::npos)
        << decoded->problems[0].reason;
  }
}

TEST(DecodeHubs, DecodesEveryField) {
  auto decoded = decodeHubs(json{{"hubs", {hub()}}});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->hubs.size(), 1u);
  EXPECT_TRUE(decoded->problems.empty());
  const HubSpec& h = decoded->hubs[0];
  EXPECT_EQ(h.port_id, "c0ffee00-1111-2222-3333-444455556666");
  EXPECT_EQ(h.project_id, "9a8b7c6d5e4f");
  EXPECT_EQ(h.network_mtu, 1450u);
  EXPECT_FALSE(h.router_id.has_value());
  EXPECT_FALSE(h.neutron_public_key.has_value());
  ASSERT_EQ(h.addresses.size(), 2u);
  EXPECT_EQ(h.addresses[0].toString(), "10.10.0.1/24");
  EXPECT_EQ(h.addresses[1].toString(), "fd00:10::1/64");
  ASSERT_EQ(h.spokes.size(), 2u);
  // Spokes come back ordered by port ID, with /32 and /128 allowed IPs.
  EXPECT_EQ(h.spokes[0].port_id, "aaaa0000-0000-0000-0000-000000000001");
  EXPECT_EQ(h.spokes[0].endpoint->toString(), "198.51.100.2:51820");
  EXPECT_EQ(join(h.spokes[0].allowed_ips, ","), "10.10.0.5/32,fd00:10::5/128");
  EXPECT_FALSE(h.spokes[1].endpoint.has_value());
}

TEST(DecodeHubs, MalformedAnswerIsAnError) {
  EXPECT_FALSE(decodeHubs(json::array()).ok());
  EXPECT_FALSE(decodeHubs(json{{"hubs", nullptr}}).ok());
  EXPECT_FALSE(decodeHubs(json{{"hubs", {json{{"id", 5}}}}}).ok());
  EXPECT_FALSE(decodeHubs(json{{"hubs", {json{{"id", "../../etc"}}}}}).ok());
  // Two hubs whose IDs share 11 characters would need the same device name.
  EXPECT_FALSE(decodeHubs(json{{"hubs", {hub("c0ffee00-11aa"), hub("c0ffee00-11bb")}}}).ok());
}

TEST(DecodeHubs, MalformedHubIsSetAsideWithReason) {
  json bad = hub("dddd0000-0000-0000-0000-000000000009");
  bad["fixed_ips"] = json::array();
  json bad_ns = hub("eeee0000-0000-0000-0000-000000000009");
  bad_ns["project_id"] = "../x";
  auto decoded = decodeHubs(json{{"hubs", {hub(), bad, bad_ns}}});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->hubs.size(), 1u);
  EXPECT_EQ(decoded->invalid_hubs, (std::vector<std::string>{"dddd0000-0000-0000-0000-000000000009",
                                                             "eeee0000-0000-0000-0000-000000000009"}));
  ASSERT_EQ(decoded->problems.size(), 2u);
  EXPECT_NE(decoded->problems[0].reason.find("no fixed IP"), std::string::npos);
  EXPECT_NE(decoded->problems[1].reason.find("namespace name"), std::string::npos);
}

TEST(DecodeHubs, FixedIpOutsideItsSubnetIsRejected) {
  json h = hub();
  h["fixed_ips"][0]["ip_address"] = "10.99.0.1";
  auto decoded = decodeHubs(json{{"hubs", {h}}});
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->hubs.empty());
  EXPECT_NE(decoded->problems.at(0).reason.find("outside its subnet"), std::string::npos)
      << decoded->problems.at(0).reason;
}

TEST(DecodeHubs, BadSpokeIsLeftOutButHubKept) {
  json h = hub();
  h["spokes"][0]["public_key"] = "not-a-key";
  auto decoded = decodeHubs(json{{"hubs", {h}}});
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->hubs.size(), 1u);
  ASSERT_EQ(decoded->hubs[0].spokes.size(), 1u);
  ASSERT_EQ(decoded->problems.size(), 1u);
  EXPECT_NE(decoded->problems[0].reason.find("public_key"), std::string::npos);
}

TEST(DecodeHubs, SpokeEndpointMayBeADnsName) {
  json h = hub();
  h["spokes"][1]["endpoint"] = "spoke-1.example.net:51821";
  auto decoded = decodeHubs(json{{"hubs", {h}}});
  ASSERT_TRUE(decoded.ok());
  const SpokeSpec& s = decoded->hubs[0].spokes[0];
  EXPECT_FALSE(s.endpoint.has_value());
  ASSERT_TRUE(s.endpoint_name.has_value());
  EXPECT_EQ(s.endpoint_name->host, "spoke-1.example.net");
  EXPECT_EQ(s.endpoint_name->port, 51821);
  EXPECT_TRUE(decoded->problems.empty());
}

TEST(DecodeHubs, UnusableSpokeEndpointKeepsTheSpokeWithoutIt) {
  json h = hub();
  h["spokes"][1]["endpoint"] = "198.51.100.2";  // no port
  auto decoded = decodeHubs(json{{"hubs", {h}}});
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->hubs[0].spokes.size(), 2u);
  EXPECT_FALSE(decoded->hubs[0].spokes[0].endpoint.has_value());
  ASSERT_EQ(decoded->problems.size(), 1u);
  EXPECT_NE(decoded->problems[0].reason.find("configured without one"), std::string::npos);
}

TEST(ParseEndpointName, AcceptsHostNamesOnly) {
  EXPECT_TRUE(parseEndpointName("a.example:1").has_value());
  EXPECT_TRUE(parseEndpointName("localhost:51820").has_value());
  for (const char* bad : {"a.example", "a.example:0", "a.example:65536", "-a.example:1", "a..example:1",
                          "1.2.3.4:5", "a_b.example:1", ":1", "a.example:1x", "[::1]:1"}) {
    EXPECT_FALSE(parseEndpointName(bad).has_value()) << bad;
  }
}

TEST(DecodeHubs, SpokesSharingAKeyAreBothLeftOut) {
  json h = hub();
  h["spokes"][0]["public_key"] = kSpokeKey;
  auto decoded = decodeHubs(json{{"hubs", {h}}});
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->hubs[0].spokes.empty());
  EXPECT_NE(decoded->problems.at(0).reason.find("share a public key"), std::string::npos);
}

TEST(DecodeHubs, DigestsAndUnchangedStubs) {
  json full = hub();
  full["digest"] = "d1";
  json stub = {{"id", "eeee0000-0000-0000-0000-000000000005"}, {"digest", "d2"}, {"unchanged", true}};
  auto decoded = decodeHubs(json{{"hubs", {full, stub}}});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->hubs.size(), 1u);
  EXPECT_EQ(decoded->hubs[0].digest, "d1");
  ASSERT_EQ(decoded->unchanged.size(), 1u);
  EXPECT_EQ(decoded->unchanged[0].port_id, "eeee0000-0000-0000-0000-000000000005");
  EXPECT_EQ(decoded->unchanged[0].digest, "d2");
  stub.erase("digest");
  EXPECT_FALSE(decodeHubs(json{{"hubs", {stub}}}).ok());
}

TEST(DecodeHubs, RouterAndRootDevice) {
  json h = hub();
  h["router_id"] = "ffff0000-0000-0000-0000-00000000000f";
  h["root_device"] = true;
  auto decoded = decodeHubs(json{{"hubs", {h}}});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->hubs[0].router_id, "ffff0000-0000-0000-0000-00000000000f");
  EXPECT_TRUE(decoded->hubs[0].root_device);
}

TEST(Names, FollowTheDesign) {
  EXPECT_EQ(deviceName("c0ffee00-1111-2222-3333-444455556666"), "wg-c0ffee00-11");
  // 3 + 11 = 14 characters: within IFNAMSIZ (15 usable).
  EXPECT_EQ(deviceName("c0ffee00-1111-2222-3333-444455556666").size(), 14u);
  EXPECT_EQ(projectNamespace("9a8b"), "tun-9a8b");
  EXPECT_EQ(routerNamespace("ffff"), "qrouter-ffff");
  EXPECT_TRUE(isManagedDeviceName("wg-c0ffee00-11"));
  EXPECT_FALSE(isManagedDeviceName("wg-c0ffee00-1"));
  EXPECT_FALSE(isManagedDeviceName("wg-C0FFEE00-11"));
  EXPECT_FALSE(isManagedDeviceName("qr-c0ffee00-11"));
  EXPECT_TRUE(isProjectNamespace("tun-x"));
  EXPECT_FALSE(isProjectNamespace("tun-"));
  EXPECT_TRUE(isRouterNamespace("qrouter-1"));
}

TEST(Names, OfOvnRoutedHubsAndTheirPlugs) {
  EXPECT_EQ(ovnHubNamespace("c0ffee00-1111-2222-3333-444455556666"),
            "wghub-c0ffee00-1111-2222-3333-444455556666");
  EXPECT_TRUE(isOvnHubNamespace("wghub-c0ffee00"));
  EXPECT_FALSE(isOvnHubNamespace("wghub-"));
  // 4 + 11 = 15 characters: IFNAMSIZ's usable length exactly.
  EXPECT_EQ(plugRootName("0b0b0000-1111-2222-3333-444455556666"), "wgo-0b0b0000-11");
  EXPECT_EQ(plugPeerName("0b0b0000-1111-2222-3333-444455556666"), "wgp-0b0b0000-11");
  EXPECT_EQ(plugRootOf("wgp-0b0b0000-11"), "wgo-0b0b0000-11");
  EXPECT_TRUE(isPlugLinkName("wgo-0b0b0000-11"));
  EXPECT_TRUE(isPlugLinkName("wgp-0b0b0000-11"));
  EXPECT_FALSE(isPlugLinkName("wgo-0b0b0000-1"));
  EXPECT_FALSE(isPlugLinkName("wgo-0B0B0000-11"));
  EXPECT_EQ(ownerAlias("node-1"), "networking-wireguard:node-1");
}

}  // namespace
}  // namespace nwg::reconcile

namespace nwg::reconcile {
namespace {

json ovnPlug() {
  return {{"port_id", "0b0b0000-1111-2222-3333-444455556666"},
          {"mac_address", "FA:16:3E:00:00:01"},
          {"fixed_ips",
           {{{"ip_address", "fd00:10::3"},
             {"cidr", "fd00:10::/64"},
             {"ip_version", 6},
             {"router_ip", "fd00:10::1"}},
            {{"ip_address", "10.10.0.3"},
             {"cidr", "10.10.0.0/24"},
             {"ip_version", 4},
             {"router_ip", "10.10.0.1"}}}}};
}

TEST(DecodeOvnPlug, AbsentOrNullIsNoPlug) {
  json h = hub();
  auto decoded = decodeHubs(json{{"hubs", {h}}});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_FALSE(decoded->hubs[0].ovn_plug);
  h["ovn_plug"] = nullptr;
  decoded = decodeHubs(json{{"hubs", {h}}});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->hubs.size(), 1u);
  EXPECT_FALSE(decoded->hubs[0].ovn_plug);
}

TEST(DecodeOvnPlug, DecodesEveryField) {
  json h = hub();
  h["ovn_plug"] = ovnPlug();
  auto decoded = decodeHubs(json{{"hubs", {h}}});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->hubs.size(), 1u);
  ASSERT_TRUE(decoded->hubs[0].ovn_plug);
  const OvnPlug& plug = *decoded->hubs[0].ovn_plug;
  EXPECT_EQ(plug.port_id, "0b0b0000-1111-2222-3333-444455556666");
  EXPECT_EQ(plug.mac_address, "fa:16:3e:00:00:01");  // lower-cased
  ASSERT_EQ(plug.fixed_ips.size(), 2u);              // sorted: IPv4 first
  EXPECT_EQ(plug.fixed_ips[0].ip_address, *IpAddress::parse("10.10.0.3"));
  EXPECT_EQ(plug.fixed_ips[0].cidr, *IpPrefix::parse("10.10.0.0/24"));
  EXPECT_EQ(plug.fixed_ips[0].router_ip, *IpAddress::parse("10.10.0.1"));
  EXPECT_EQ(plug.fixed_ips[1].router_ip, *IpAddress::parse("fd00:10::1"));
  // The plug is a device field: a change of it changes the device.
  HubSpec without = decoded->hubs[0];
  without.ovn_plug.reset();
  EXPECT_FALSE(sameDeviceFields(decoded->hubs[0], without));
}

TEST(DecodeOvnPlug, MalformedPlugSetsTheHubAsideNamingTheField) {
  struct Case {
    const char* field;
    std::function<void(json&)> spoil;
  };
  const std::vector<Case> cases = {
      {"'ovn_plug'", [](json& p) { p = "yes"; }},
      {"'ovn_plug.port_id'", [](json& p) { p.erase("port_id"); }},
      {"'ovn_plug.port_id'", [](json& p) { p["port_id"] = "../../etc"; }},
      {"'ovn_plug.mac_address'", [](json& p) { p["mac_address"] = "fa:16:3e:00:00"; }},
      {"'ovn_plug.mac_address'", [](json& p) { p["mac_address"] = "01:00:5e:00:00:01"; }},  // multicast
      {"'ovn_plug.mac_address'", [](json& p) { p["mac_address"] = 7; }},
      {"'ovn_plug.fixed_ips'", [](json& p) { p["fixed_ips"] = json::array(); }},
      {"'ovn_plug.fixed_ips'", [](json& p) { p["fixed_ips"] = "10.10.0.3"; }},
      {"'ovn_plug.fixed_ips'", [](json& p) { p["fixed_ips"][0] = 3; }},
      {"'ip_address'", [](json& p) { p["fixed_ips"][1]["ip_address"] = "10.10.0.300"; }},
      {"'router_ip'", [](json& p) { p["fixed_ips"][1].erase("router_ip"); }},
      {"'cidr'", [](json& p) { p["fixed_ips"][1]["cidr"] = "10.10.0.0/33"; }},
      {"'ovn_plug.fixed_ips'", [](json& p) { p["fixed_ips"][1]["ip_address"] = "10.20.0.3"; }},
      {"router_ip", [](json& p) { p["fixed_ips"][1]["router_ip"] = "10.20.0.1"; }},
      {"router_ip", [](json& p) { p["fixed_ips"][1]["router_ip"] = "10.10.0.3"; }},
      {"'ip_version'", [](json& p) { p["fixed_ips"][1]["ip_version"] = 6; }},
  };
  for (const auto& c : cases) {
    json h = hub();
    json plug = ovnPlug();
    c.spoil(plug);
    h["ovn_plug"] = plug;
    auto decoded = decodeHubs(json{{"hubs", {h}}});
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_TRUE(decoded->hubs.empty()) << plug.dump();
    ASSERT_EQ(decoded->invalid_hubs.size(), 1u) << plug.dump();
    ASSERT_EQ(decoded->problems.size(), 1u);
    EXPECT_NE(decoded->problems[0].reason.find(c.field), std::string::npos)
        << c.field << " in: " << decoded->problems[0].reason;
  }
}

TEST(ParseMacAddress, SixOctetsLowerCasedUnicastOnly) {
  EXPECT_EQ(parseMacAddress("FA:16:3e:0A:bC:01"), "fa:16:3e:0a:bc:01");
  EXPECT_FALSE(parseMacAddress("fa-16-3e-00-00-01"));
  EXPECT_FALSE(parseMacAddress("fa:16:3e:00:00:0g"));
  EXPECT_FALSE(parseMacAddress("fa:16:3e:00:00:01:02"));
  EXPECT_FALSE(parseMacAddress("ff:ff:ff:ff:ff:ff"));
  EXPECT_FALSE(parseMacAddress(""));
}

}  // namespace
}  // namespace nwg::reconcile

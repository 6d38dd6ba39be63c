#include "monitor/peer_metrics.h"

#include <gtest/gtest.h>

#include "monitor/tests/support.h"

namespace nwg::monitor {
namespace {

using namespace testing;

PeerReading readingOf(std::vector<std::shared_ptr<const reconcile::RealizedHub>> hubs) {
  PeerReading r;
  for (auto& hub : hubs) {
    HubReading h;
    h.hub = hub;
    h.peers.resize(hub->spokes.size());
    r.hubs.push_back(std::move(h));
  }
  return r;
}

TEST(PeerMetrics, ThePrometheusWireguardExporterNamesWithNeutronsIdentities) {
  auto hub = hubWith(1, 1, 2);
  PeerReading r = readingOf({hub});
  r.hubs[0].peers[0] = {true, handshakeAt(1766000000, 1234, 5678), std::nullopt};
  r.hubs[0].peers[1] = {false, {}, std::nullopt};  // not on the device yet: no samples
  PeerMetricsRenderer renderer;
  const std::string text = *renderer.render(r);
  const std::string labels =
      "{interface=\"wg-c0ffee01-00\",public_key=\"" + keyOf(1).toBase64() +
      "\",allowed_ips=\"10.0.0.3/32\",port_id=\"" + spokeId(1) + "\",hub_port_id=\"" + hubId(1) +
      "\",project_id=\"9a8b7c6d5e4f\",network_id=\"5f1c0000-0000-0000-0000-000000000001\"}";
  EXPECT_EQ(text,
            "# HELP wireguard_sent_bytes_total Bytes sent to the peer (by the hub's device)\n"
            "# TYPE wireguard_sent_bytes_total counter\n"
            "wireguard_sent_bytes_total" +
                labels +
                " 5678\n"
                "# HELP wireguard_received_bytes_total Bytes received from the peer (by the hub's device)\n"
                "# TYPE wireguard_received_bytes_total counter\n"
                "wireguard_received_bytes_total" +
                labels +
                " 1234\n"
                "# HELP wireguard_latest_handshake_seconds Unix time of the latest handshake with the peer; "
                "0: never since the device was created\n"
                "# TYPE wireguard_latest_handshake_seconds gauge\n"
                "wireguard_latest_handshake_seconds" +
                labels + " 1766000000\n");
}

TEST(PeerMetrics, AHubThatCouldNotBeReadHasNoSamplesAndSeveralAllowedIpsAreJoined) {
  auto a = withSpokeEdited(*hubWith(1, 1, 1), 0, [](auto& s) { s.allowed_ips.push_back(*IpPrefix::parse("fd00::5/128")); });
  auto b = hubWith(2, 2, 1);
  PeerReading r = readingOf({a, b});
  r.hubs[0].peers[0].present = true;
  r.hubs[1].failure = Error("timed out");
  r.hubs[1].peers.clear();
  PeerMetricsRenderer renderer;
  const std::string text = *renderer.render(r);
  EXPECT_NE(text.find("allowed_ips=\"10.0.0.3/32,fd00::5/128\""), std::string::npos) << text;
  EXPECT_EQ(text.find(hubId(2)), std::string::npos);
}

TEST(PeerMetrics, LabelsFollowTheHubEntry) {
  PeerMetricsRenderer renderer;
  auto first = hubWith(1, 1, 1);
  PeerReading r = readingOf({first});
  r.hubs[0].peers[0].present = true;
  EXPECT_NE(renderer.render(r)->find("10.0.0.3/32"), std::string::npos);
  // A new entry for the hub (its spoke got another address): new labels.
  auto second = withSpokeEdited(*first, 0, [](auto& s) { s.allowed_ips = {*IpPrefix::parse("10.9.9.9/32")}; });
  r.hubs[0].hub = second;
  std::string text = *renderer.render(r);
  EXPECT_EQ(text.find("10.0.0.3/32"), std::string::npos);
  EXPECT_NE(text.find("10.9.9.9/32"), std::string::npos);
}

}  // namespace
}  // namespace nwg::monitor

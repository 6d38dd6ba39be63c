// The names of every metric family the agent exports. Per peer, those of
// prometheus_wireguard_exporter, so that existing WireGuard dashboards work unchanged; the agent's
// own under neutron_wireguard_agent_. The Grafana dashboard's test checks its queries against
// kAllFamilies.
#pragma once

#include <array>
#include <string_view>

namespace nwg::metrics::names {

// Per peer (labels interface, public_key, allowed_ips, port_id, hub_port_id, project_id,
// network_id); sent and received as the hub's device counts them.
inline constexpr std::string_view kSentBytes = "wireguard_sent_bytes_total";
inline constexpr std::string_view kReceivedBytes = "wireguard_received_bytes_total";
inline constexpr std::string_view kLatestHandshake = "wireguard_latest_handshake_seconds";

// The agent's health.
inline constexpr std::string_view kInfo = "neutron_wireguard_agent_info";
inline constexpr std::string_view kSyncs = "neutron_wireguard_agent_syncs_total";
inline constexpr std::string_view kSyncDuration = "neutron_wireguard_agent_sync_duration_seconds";
inline constexpr std::string_view kLastFullSync = "neutron_wireguard_agent_last_full_sync_timestamp_seconds";
inline constexpr std::string_view kHubs = "neutron_wireguard_agent_hubs";
inline constexpr std::string_view kPeers = "neutron_wireguard_agent_peers";
inline constexpr std::string_view kNotificationLatency =
    "neutron_wireguard_agent_notification_to_applied_seconds";
inline constexpr std::string_view kRpcErrors = "neutron_wireguard_agent_rpc_errors_total";
inline constexpr std::string_view kRpcReconnects = "neutron_wireguard_agent_rpc_reconnects_total";
inline constexpr std::string_view kPeerReads = "neutron_wireguard_agent_peer_reads_total";
inline constexpr std::string_view kPeerReadDuration = "neutron_wireguard_agent_peer_read_duration_seconds";
inline constexpr std::string_view kLastPeerRead = "neutron_wireguard_agent_last_peer_read_timestamp_seconds";
inline constexpr std::string_view kSpokes = "neutron_wireguard_agent_spokes";
inline constexpr std::string_view kSpokeReports = "neutron_wireguard_agent_spoke_reports_total";
inline constexpr std::string_view kSpokeReportEntries = "neutron_wireguard_agent_spoke_report_entries_total";

inline constexpr std::array kAllFamilies = {
    kSentBytes,    kReceivedBytes,       kLatestHandshake, kInfo,
    kSyncs,        kSyncDuration,        kLastFullSync,    kHubs,
    kPeers,        kNotificationLatency, kRpcErrors,       kRpcReconnects,
    kPeerReads,    kPeerReadDuration,    kLastPeerRead,    kSpokes,
    kSpokeReports, kSpokeReportEntries,
};

}  // namespace nwg::metrics::names

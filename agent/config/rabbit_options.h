// [oslo_messaging_rabbit] options that change what goes on the wire, with oslo.messaging's (Zed)
// defaults. Read by AgentConfig; used by the RPC transport (rpc/).
#pragma once

#include <string>

namespace nwg::config {

struct RabbitOptions {
  // TLS (rabbitmq-c's OpenSSL socket).
  bool ssl = false;
  std::string ssl_version;  // "" (negotiate, at least TLS 1.2) or TLSv1_2
  std::string ssl_key_file;
  std::string ssl_cert_file;
  std::string ssl_ca_file;  // CAs that verify the broker's certificate ("": the system's)
  // The broker's certificate chain is verified (against ssl_ca_file or the system CAs), and, with
  // ssl_enforce_hostname_verification, the transport_url's host name or address against it. Both are
  // on by default (oslo.messaging's hostname default is false; an agent trusting any certificate would
  // take orders from whoever sits between it and the broker). ssl_verify_broker_certificate is ours.
  bool ssl_verify_broker_certificate = true;
  bool ssl_enforce_hostname_verification = true;

  // AMQP heartbeats: negotiated timeout in seconds (0 disables); checked heartbeat_rate times per timeout.
  int heartbeat_timeout_threshold = 60;
  int heartbeat_rate = 2;

  // Queue and exchange flags: they must match what the broker already has, or it refuses (406).
  bool amqp_durable_queues = false;
  bool amqp_auto_delete = false;
  bool rabbit_quorum_queue = false;        // x-queue-type: quorum (durable) on topic queues
  bool rabbit_ha_queues = false;           // x-ha-policy: all
  int rabbit_transient_queues_ttl = 1800;  // x-expires (s) of reply and fanout queues
  int rabbit_qos_prefetch_count = 0;       // 0: no basic.qos

  // Reconnection: wait rabbit_retry_interval + n * rabbit_retry_backoff seconds before attempt n+1,
  // at most rabbit_interval_max; hosts are tried round-robin (or shuffled first).
  int rabbit_retry_interval = 1;
  int rabbit_retry_backoff = 2;
  int rabbit_interval_max = 30;
  std::string kombu_failover_strategy = "round-robin";  // round-robin | shuffle

  // PLAIN and AMQPLAIN both log in with SASL PLAIN (same credentials, verified against oslo peers);
  // EXTERNAL uses the TLS client certificate.
  std::string rabbit_login_method = "AMQPLAIN";

  // Replies are published mandatory (the broker returns a reply whose caller has gone).
  bool direct_mandatory_flag = true;

  // True when the durable flag applies to topic exchanges and queues (quorum queues are durable).
  bool durable() const { return amqp_durable_queues || rabbit_quorum_queue; }
};

}  // namespace nwg::config

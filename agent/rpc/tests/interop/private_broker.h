// A RabbitMQ node owned by one test (scripts/lib/rabbitmq.sh rabbit_private_start/stop): its own node
// name nwg-<token>@localhost, a free port and a temporary data directory, so the test can stop and restart
// it without disturbing the shared broker that colleagues use.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"

namespace nwg::rpc::interop {

class PrivateBroker {
 public:
  // With `tls`, the node also listens for TLS on sslPort(), with a certificate from a throwaway CA
  // (caFile()); clientCert()/clientKey() are a client certificate from the same CA.
  static Result<std::unique_ptr<PrivateBroker>> start(const std::string& token, bool tls = false);
  ~PrivateBroker();  // stops it and removes its directory

  Status stop();
  Status restart();  // start again with the same data (users, vhosts)
  // Freezes / thaws the node's Erlang VM (SIGSTOP / SIGCONT): a broker that goes silent without closing
  // its connections, as behind a network partition.
  Status pause();
  Status resume();
  std::string transportUrl() const;
  int port() const { return port_; }
  int sslPort() const { return port_ + 1; }
  std::string caFile() const { return dir_ + "/tls/ca.pem"; }
  std::string clientCert() const { return dir_ + "/tls/client.pem"; }
  std::string clientKey() const { return dir_ + "/tls/client.key"; }
  // Another CA that signed nothing here (for verification failures).
  std::string otherCaFile() const { return dir_ + "/tls/other-ca.pem"; }

 private:
  PrivateBroker() = default;
  Status shell(const std::string& function) const;
  Status makeTls() const;

  std::string dir_;
  std::string node_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace nwg::rpc::interop

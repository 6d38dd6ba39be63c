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
  static Result<std::unique_ptr<PrivateBroker>> start(const std::string& token);
  ~PrivateBroker();  // stops it and removes its directory

  Status stop();
  Status restart();  // start again with the same data (users, vhosts)
  std::string transportUrl() const;
  int port() const { return port_; }

 private:
  PrivateBroker() = default;
  Status shell(const std::string& function) const;

  std::string dir_;
  std::string node_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace nwg::rpc::interop

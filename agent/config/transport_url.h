// [DEFAULT] transport_url, parsed as oslo.messaging's TransportURL.parse reads it:
//   rabbit://user:pass@host:port[,user2:pass2@host2:port2]/vhost?query
// Percent-encoded user names, passwords and vhost; IPv6 hosts in brackets; default port 5672 (5671 with
// ssl); no credentials means guest/guest (kombu's default); "rabbit://" alone is localhost.
// The password never leaves this type in text form except through password(): every formatting
// (redacted(), operator<<) and every parse error leaves it out.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace nwg::config {

struct TransportHost {
  std::string host;      // a name or a numeric address; IPv6 without brackets
  uint16_t port = 0;     // 0: not given (use defaultPort())
  std::string username;  // decoded
  std::string password;  // decoded; never format it
  bool has_credentials = false;

  uint16_t portOr(uint16_t fallback) const { return port ? port : fallback; }
  // "host:port" or "[v6]:port" for messages (no credentials).
  std::string address(uint16_t default_port) const;
};

class TransportUrl {
 public:
  static constexpr uint16_t kDefaultPort = 5672;
  static constexpr uint16_t kDefaultSslPort = 5671;

  TransportUrl();  // "rabbit://": guest:guest@localhost:5672, vhost "/"

  // Errors never contain the password (nor the URL, which carries it).
  static Result<TransportUrl> parse(std::string_view url);

  const std::string& scheme() const { return scheme_; }
  const std::vector<TransportHost>& hosts() const { return hosts_; }
  // The AMQP virtual host: the decoded path, "/" when the URL has none.
  const std::string& virtualHost() const { return vhost_; }
  const std::map<std::string, std::string>& query() const { return query_; }

  // The URL with every password replaced by "***".
  std::string redacted() const;

 private:
  std::string scheme_ = "rabbit";
  std::vector<TransportHost> hosts_;
  std::string vhost_ = "/";
  std::map<std::string, std::string> query_;
  std::string raw_query_;
};

inline std::ostream& operator<<(std::ostream& out, const TransportUrl& url) {
  return out << url.redacted();
}

}  // namespace nwg::config

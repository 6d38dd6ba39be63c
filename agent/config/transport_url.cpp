// transport_url parsing (oslo_messaging/transport.py TransportURL.parse, Zed) and redacted formatting.
#include "config/transport_url.h"

#include <cctype>

#include "config/option_types.h"

namespace nwg::config {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// urllib.parse.unquote: "%XX" decoded, an invalid escape kept as it is.
std::string percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hexValue(s[i + 1]);
      const int lo = hexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// Encodes what would end or split the user-info part, so redacted() parses back to the same hosts.
std::string percentEncodeUser(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::string_view("%:@/,?#[] ").find(c) != std::string_view::npos || u < 0x21 || u >= 0x7f) {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string percentEncodeVhost(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string TransportHost::address(uint16_t default_port) const {
  const bool v6 = host.find(':') != std::string::npos;
  return str(v6 ? "[" : "", host, v6 ? "]" : "", ":", portOr(default_port));
}

TransportUrl::TransportUrl() {
  TransportHost h;
  h.host = "localhost";
  h.username = "guest";
  h.password = "guest";
  hosts_.push_back(h);
}

Result<TransportUrl> TransportUrl::parse(std::string_view url) {
  const std::string_view text = trim(url);
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return fail("transport_url has no scheme (expected rabbit://user:password@host:port/vhost)");
  }
  TransportUrl out;
  out.hosts_.clear();
  out.scheme_ = lower(text.substr(0, sep));
  if (out.scheme_ != "rabbit" && out.scheme_ != "kombu+rabbit" && out.scheme_ != "kombu+amqp") {
    return fail("transport_url scheme '", out.scheme_,
                "' is not supported: neutron-wireguard-agent speaks RabbitMQ (rabbit://)");
  }
  std::string_view rest = text.substr(sep + 3);
  const size_t netloc_end = rest.find_first_of("/?#");
  const std::string_view netloc = rest.substr(0, netloc_end);
  std::string_view after =
      netloc_end == std::string_view::npos ? std::string_view() : rest.substr(netloc_end);
  if (const size_t hash = after.find('#'); hash != std::string_view::npos) after = after.substr(0, hash);
  std::string_view path = after;
  std::string_view query;
  if (const size_t q = after.find('?'); q != std::string_view::npos) {
    path = after.substr(0, q);
    query = after.substr(q + 1);
  }

  size_t index = 0;
  for (std::string_view entry : split(netloc, ',')) {
    if (entry.empty()) continue;
    ++index;
    TransportHost h;
    std::string_view hostport = entry;
    if (const size_t at = entry.rfind('@'); at != std::string_view::npos) {
      const std::string_view userinfo = entry.substr(0, at);
      hostport = entry.substr(at + 1);
      const size_t colon = userinfo.find(':');
      h.username = percentDecode(userinfo.substr(0, colon));
      if (colon != std::string_view::npos) {
        h.password = percentDecode(userinfo.substr(colon + 1));
        h.has_credentials = true;
      }
    }
    std::string_view port_text;
    if (!hostport.empty() && hostport.front() == '[') {
      const size_t close = hostport.find(']');
      if (close == std::string_view::npos)
        return fail("transport_url host ", index, ": '[' without a closing ']'");
      h.host = std::string(hostport.substr(1, close - 1));
      const std::string_view tail = hostport.substr(close + 1);
      if (!tail.empty()) {
        if (tail.front() != ':') return fail("transport_url host ", index, ": unexpected text after ']'");
        port_text = tail.substr(1);
      }
      if (h.host.empty()) return fail("transport_url host ", index, ": empty IPv6 address '[]'");
    } else if (const size_t colon = hostport.find(':'); colon != std::string_view::npos) {
      h.host = std::string(hostport.substr(0, colon));
      port_text = hostport.substr(colon + 1);
    } else {
      h.host = std::string(hostport);
    }
    if (h.host.empty()) return fail("transport_url host ", index, " has no host name");
    if (!port_text.empty()) {
      auto port = parseInt(port_text);
      if (!port.ok() || *port < 1 || *port > 65535) {
        // The port text is not shown: with an unencoded '/', '?' or '#' in a password it is part of it.
        return fail("transport_url host ", index,
                    ": the port is not a number in 1..65535 (percent-encode '/', '?', "
                    "'#' and ',' in user names and passwords)");
      }
      h.port = static_cast<uint16_t>(*port);
    }
    if (!h.has_credentials) {
      // kombu's defaults; oslo only warns when some hosts have credentials and others not.
      if (h.username.empty()) h.username = "guest";
      h.password = "guest";
    }
    out.hosts_.push_back(std::move(h));
  }
  if (out.hosts_.empty()) {
    if (!netloc.empty()) return fail("transport_url has no host");
    out.hosts_ = TransportUrl().hosts_;  // "rabbit://": oslo connects to guest:guest@localhost
  }

  if (!path.empty() && path.front() == '/') {
    const std::string vhost = percentDecode(path.substr(1));
    out.vhost_ = vhost.empty() ? "/" : vhost;
  } else {
    out.vhost_ = "/";
  }
  out.raw_query_ = std::string(query);
  for (std::string_view kv : split(query, '&')) {
    if (kv.empty()) continue;
    const size_t eq = kv.find('=');
    const std::string key = percentDecode(kv.substr(0, eq));
    const std::string value = eq == std::string_view::npos ? "" : percentDecode(kv.substr(eq + 1));
    auto [it, inserted] = out.query_.emplace(key, value);
    if (!inserted) it->second += "," + value;  // parse_qs + ','.join, as oslo does
  }
  return out;
}

std::string TransportUrl::redacted() const {
  // Appends piece by piece (GCC 12 -O3 warns falsely about operator+ chains with -Wrestrict).
  std::string out = scheme_;
  out.append("://");
  for (size_t i = 0; i < hosts_.size(); ++i) {
    const TransportHost& h = hosts_[i];
    if (i) out.push_back(',');
    if (h.has_credentials) {
      out.append(percentEncodeUser(h.username)).append(":***@");
    } else if (h.username != "guest") {
      out.append(percentEncodeUser(h.username)).append("@");  // a user without a password
    }
    const bool bracket = h.host.find(':') != std::string::npos || h.host.front() == '[';
    if (bracket) out.push_back('[');
    out.append(h.host);
    if (bracket) out.push_back(']');
    if (h.port) out.append(":").append(std::to_string(h.port));
  }
  // The vhost re-encoded (not the path as written): redacted() then parses back to the same vhost.
  out.push_back('/');
  if (vhost_ != "/") out.append(percentEncodeVhost(vhost_));
  if (!raw_query_.empty()) out.append("?").append(raw_query_);
  return out;
}

}  // namespace nwg::config

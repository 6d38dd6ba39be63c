// URL credential redaction for log lines.
#include "logging/secret_redactor.h"

namespace nwg::logging {
namespace {

constexpr std::string_view kAuthorityEnd = "/ \t\r\n\"'?#<>";

// Redacts one comma-separated host entry "user:password@host:port" (oslo splits at the last '@').
void appendRedactedHost(std::string& out, std::string_view entry) {
  const size_t at = entry.rfind('@');
  if (at == std::string_view::npos) {
    out.append(entry);
    return;
  }
  const std::string_view userinfo = entry.substr(0, at);
  const size_t colon = userinfo.find(':');
  if (colon == std::string_view::npos) {
    out.append(entry);
    return;
  }
  out.append(userinfo.substr(0, colon)).append(":***").append(entry.substr(at));
}

}  // namespace

std::string redactUrlCredentials(std::string_view text) {
  if (text.find("://") == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    const size_t scheme_end = text.find("://", pos);
    if (scheme_end == std::string_view::npos) {
      out.append(text.substr(pos));
      return out;
    }
    const size_t auth_begin = scheme_end + 3;
    out.append(text.substr(pos, auth_begin - pos));
    size_t auth_end = text.find_first_of(kAuthorityEnd, auth_begin);
    if (auth_end == std::string_view::npos) auth_end = text.size();
    std::string_view authority = text.substr(auth_begin, auth_end - auth_begin);
    bool first = true;
    while (true) {
      const size_t comma = authority.find(',');
      if (!first) out.push_back(',');
      first = false;
      appendRedactedHost(out, authority.substr(0, comma));
      if (comma == std::string_view::npos) break;
      authority.remove_prefix(comma + 1);
    }
    pos = auth_end;
  }
}

}  // namespace nwg::logging

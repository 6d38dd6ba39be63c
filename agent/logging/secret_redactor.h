// Last line of defence against secrets in logs: every line the Logger writes passes through here, so a
// transport_url that reached a message by mistake (an exception text, a config dump) loses its passwords.
// The real protection is that types holding secrets (TransportUrl, Key) never format them.
#pragma once

#include <string>
#include <string_view>

namespace nwg::logging {

// Replaces the password of every "scheme://user:password@host" (also in oslo's multi-host form
// "rabbit://u1:p1@h1,u2:p2@h2/vhost") with "***". Text without credentials is returned unchanged.
std::string redactUrlCredentials(std::string_view text);

}  // namespace nwg::logging

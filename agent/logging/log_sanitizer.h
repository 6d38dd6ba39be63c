// The second barrier of every log line (after secret redaction): text that came from the network (a
// request id, a method name, a peer's error text, a DNS name) may carry control characters, a newline
// that forges a second log line, or bytes that are not UTF-8. Every message is passed through here:
// control bytes and invalid UTF-8 become "\xNN" escapes, valid UTF-8 stays as it is, and an overlong
// message is cut with a note of how much was left out.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nwg::logging {

inline constexpr size_t kMaxLogMessageBytes = 64 * 1024;

std::string sanitizeForLog(std::string_view text, size_t max_bytes = kMaxLogMessageBytes);

}  // namespace nwg::logging

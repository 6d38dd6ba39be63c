// The last barrier of every log line (after secret redaction): text that came from the network may
// carry control characters, a newline that forges a second log line, or bytes that are not UTF-8.
// Callers escape network fields where they format them (nwg::sanitizeForLog, base/strings.h); this
// guard, applied by the Logger to every message whatever its origin, makes sure nothing they missed
// reaches the file: control bytes and invalid UTF-8 become "\xNN" escapes, valid UTF-8 and
// backslashes stay as they are (so already escaped text is unchanged), an overlong message is cut.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nwg::logging {

inline constexpr size_t kMaxLogMessageBytes = 64 * 1024;

std::string guardLogLine(std::string_view text, size_t max_bytes = kMaxLogMessageBytes);

}  // namespace nwg::logging

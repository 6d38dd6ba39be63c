// The depth pre-scan and the bounded parse.
#include "rpc/json_limits.h"

namespace nwg::rpc {

Status checkJsonDepth(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) return fail("JSON nested deeper than ", max_depth, " levels");
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return okStatus();
}

Result<nlohmann::json> parseJsonWithin(std::string_view text, const JsonLimits& limits,
                                       std::string_view what) {
  if (text.size() > limits.max_bytes) {
    return fail(what, " is ", text.size(), " bytes, more than the ", limits.max_bytes, " accepted");
  }
  if (Status depth = checkJsonDepth(text, limits.max_depth); !depth.ok()) {
    return fail(what, ": ", depth.error().message);
  }
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return fail(what, " is not valid JSON (", text.size(), " bytes)");
  return value;
}

}  // namespace nwg::rpc

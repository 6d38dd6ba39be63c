// Envelope 2.0 encoding and decoding (oslo_messaging/_drivers/common.py serialize_msg/deserialize_msg).
#include "rpc/envelope.h"

namespace nwg::rpc {

std::string dumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
}

std::string Envelope::encode(const nlohmann::json& inner) {
  nlohmann::json envelope = nlohmann::json::object();
  envelope["oslo.version"] = "2.0";
  envelope["oslo.message"] = dumpJson(inner);
  return dumpJson(envelope);
}

Result<nlohmann::json> Envelope::decode(std::string_view body, const JsonLimits& limits) {
  NWG_ASSIGN_OR_RETURN(nlohmann::json outer, parseJsonWithin(body, limits, "message body"));
  if (!outer.is_object()) return fail("message body is JSON ", outer.type_name(), ", not an object");
  const auto version = outer.find("oslo.version");
  const auto message = outer.find("oslo.message");
  if (version == outer.end() || message == outer.end()) return outer;  // legacy 1.0: the body is the message

  if (!version->is_string()) return fail("envelope oslo.version is not a string");
  // oslo accepts the same major version with a minor not above its own (2.0).
  const std::string& v = version->get_ref<const std::string&>();
  const size_t dot = v.find('.');
  const std::string major = v.substr(0, dot);
  const std::string minor = dot == std::string::npos ? "0" : v.substr(dot + 1);
  auto allDigits = [](const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (!allDigits(major) || !allDigits(minor) || major.find_first_not_of('0') == std::string::npos ||
      std::stoull(major.substr(0, 6)) != 2 || minor.find_first_not_of('0') != std::string::npos) {
    return fail("unsupported envelope version '", sanitizeForLog(v, 32), "' (this agent speaks 2.0)");
  }
  if (!message->is_string()) return fail("envelope oslo.message is not a string");
  NWG_ASSIGN_OR_RETURN(nlohmann::json inner, parseJsonWithin(message->get_ref<const std::string&>(), limits,
                                                             "envelope oslo.message"));
  if (!inner.is_object()) return fail("envelope oslo.message is JSON ", inner.type_name(), ", not an object");
  return inner;
}

}  // namespace nwg::rpc

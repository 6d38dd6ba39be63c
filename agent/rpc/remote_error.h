// An exception raised by the remote end of a call, as oslo.messaging serializes it into a reply's
// "failure" (a JSON string: class, module, message, tb, args, kwargs).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace nwg::rpc {

struct RemoteError {
  std::string class_name;  // "NoSuchMethod", "ValueError", "WgError"
  std::string module;      // "oslo_messaging.rpc.dispatcher", "builtins", "__main__"
  std::string message;
  std::vector<std::string> traceback;  // "tb", one string per line group, as Python formats it
  nlohmann::json args = nlohmann::json::array();
  nlohmann::json kwargs = nlohmann::json::object();

  static RemoteError make(std::string class_name, std::string module, std::string message);

  // Parses a reply's failure string; a failure that is not a JSON object is an error.
  static Result<RemoteError> parse(std::string_view failure);
  // The failure string a reply carries (what serialize_remote_exception produces).
  std::string serialize() const;

  bool is(std::string_view cls, std::string_view mod) const { return class_name == cls && module == mod; }
  bool isNoSuchMethod() const { return is("NoSuchMethod", "oslo_messaging.rpc.dispatcher"); }
  bool isUnsupportedVersion() const { return is("UnsupportedVersion", "oslo_messaging.rpc.dispatcher"); }

  // "module.Class: message" for logs and Error messages.
  std::string describe() const;
};

}  // namespace nwg::rpc

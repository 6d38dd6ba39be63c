// RemoteError parsing and serialization (oslo_messaging/_drivers/common.py).
#include "rpc/remote_error.h"

#include "rpc/envelope.h"
#include "rpc/json_limits.h"

namespace nwg::rpc {

RemoteError RemoteError::make(std::string class_name, std::string module, std::string message) {
  RemoteError e;
  e.class_name = std::move(class_name);
  e.module = std::move(module);
  e.args = nlohmann::json::array({message});
  e.message = std::move(message);
  return e;
}

Result<RemoteError> RemoteError::parse(std::string_view failure) {
  auto parsed = parseJsonWithin(failure, JsonLimits{}, "reply failure");
  if (!parsed.ok()) return std::move(parsed).error();
  const nlohmann::json j = std::move(parsed).value();
  if (!j.is_object()) return fail("reply failure is not a JSON object");
  RemoteError e;
  auto text = [&j](const char* key) -> std::string {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return {};
    return it->is_string() ? it->get<std::string>() : dumpJson(*it);
  };
  e.class_name = text("class");
  e.module = text("module");
  e.message = text("message");
  if (auto tb = j.find("tb"); tb != j.end() && tb->is_array()) {
    for (const auto& line : *tb)
      e.traceback.push_back(line.is_string() ? line.get<std::string>() : dumpJson(line));
  }
  if (auto a = j.find("args"); a != j.end()) e.args = *a;
  if (auto k = j.find("kwargs"); k != j.end()) e.kwargs = *k;
  if (e.class_name.empty()) return fail("reply failure names no exception class");
  return e;
}

std::string RemoteError::serialize() const {
  nlohmann::json j = {{"class", class_name}, {"module", module}, {"message", message},
                      {"tb", traceback},     {"args", args},     {"kwargs", kwargs}};
  return dumpJson(j);
}

std::string RemoteError::describe() const {
  return module.empty() ? str(class_name, ": ", message) : str(module, ".", class_name, ": ", message);
}

}  // namespace nwg::rpc

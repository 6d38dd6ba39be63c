// The flattened admin context neutron agents send.
#include "rpc/request_context.h"

#include "base/strings.h"
#include "rpc/uuid.h"
#include "rpc/wire_time.h"

namespace nwg::rpc {
namespace {
constexpr std::string_view kPrefix = "_context_";
}

std::string RequestContext::newRequestId() {
  return "req-" + newUuidString();
}

nlohmann::json RequestContext::admin(std::chrono::system_clock::time_point now) {
  using nlohmann::json;
  return json{{"user", nullptr},
              {"project_id", nullptr},
              {"system_scope", nullptr},
              {"project", nullptr},
              {"domain", nullptr},
              {"user_domain", nullptr},
              {"project_domain", nullptr},
              {"is_admin", true},
              {"read_only", false},
              {"show_deleted", false},
              {"auth_token", nullptr},
              {"request_id", newRequestId()},
              {"global_request_id", nullptr},
              {"resource_uuid", nullptr},
              {"roles", json::array()},
              {"user_identity", "- - - - -"},
              {"is_admin_project", true},
              {"user_id", nullptr},
              {"tenant_id", nullptr},
              {"timestamp", formatUtcTime(now, ' ')},
              {"tenant_name", nullptr},
              {"project_name", nullptr},
              {"user_name", nullptr}};
}

void RequestContext::flattenInto(const nlohmann::json& context, nlohmann::json& inner) {
  if (!context.is_object()) return;
  for (auto it = context.begin(); it != context.end(); ++it)
    inner[std::string(kPrefix) + it.key()] = it.value();
}

nlohmann::json RequestContext::extractFrom(nlohmann::json& inner) {
  nlohmann::json context = nlohmann::json::object();
  if (!inner.is_object()) return context;
  for (auto it = inner.begin(); it != inner.end();) {
    if (startsWith(it.key(), kPrefix)) {
      context[it.key().substr(kPrefix.size())] = it.value();
      it = inner.erase(it);
    } else {
      ++it;
    }
  }
  return context;
}

}  // namespace nwg::rpc

#include "app/profile.h"

#include <string>
#include <vector>

namespace portico {

Profile parse_profile(std::string_view name) {
  if (name == "all-in-one") return Profile::kAllInOne;
  if (name == "control-plane") return Profile::kControlPlane;
  if (name == "key-manager") return Profile::kKeyManager;
  if (name == "gateway") return Profile::kGateway;
  if (name == "traffic-manager") return Profile::kTrafficManager;
  throw ConfigError("unknown profile '" + std::string(name) +
                    "'; expected all-in-one, control-plane, key-manager, gateway or "
                    "traffic-manager");
}

std::string_view profile_name(Profile profile) {
  switch (profile) {
    case Profile::kAllInOne:
      return "all-in-one";
    case Profile::kControlPlane:
      return "control-plane";
    case Profile::kKeyManager:
      return "key-manager";
    case Profile::kGateway:
      return "gateway";
    case Profile::kTrafficManager:
      return "traffic-manager";
  }
  return "?";
}

ProfileParts parts_of(Profile profile) {
  switch (profile) {
    case Profile::kAllInOne:
      return {.database = true, .key_manager = true, .control_plane = true, .server = true};
    case Profile::kControlPlane:
      return {.database = true, .key_manager = true, .control_plane = true, .server = true};
    case Profile::kKeyManager:
      return {.database = true, .key_manager = true, .server = true};
    case Profile::kGateway:
      return {.remote_gateway = true};
    case Profile::kTrafficManager:
      return {.database = true, .server = true, .quota_leases = true};
  }
  return {};
}

void require_settings(const Config& c, Profile profile) {
  if (c.events.transport == "sse" && profile != Profile::kGateway)
    throw ConfigError(
        "events.transport = \"sse\" is for the gateway profile (it follows the "
        "control plane's event stream); the " +
        std::string(profile_name(profile)) + " profile uses \"redis\" or \"auto\"");
  if (profile == Profile::kAllInOne) return;
  std::vector<std::string> missing;
  // Every node must sign and expect the same issuer; a default derived from this node's
  // port would differ from node to node.
  // A traffic manager neither issues nor checks tokens.
  if (c.oauth.issuer.empty() && profile != Profile::kTrafficManager)
    missing.push_back("oauth.issuer (the same on every node)");
  if (c.internal_api.password.empty())
    missing.push_back("internal_api.password (the gateways' credential, the same on every node)");
  // A gateway may follow the control plane's event stream instead of the log itself.
  bool follows_stream = profile == Profile::kGateway && c.events.transport == "sse";
  if (c.redis.url.empty() && !follows_stream)
    missing.push_back(profile == Profile::kGateway
                          ? "redis.url (the cluster's event log) or events.transport = \"sse\""
                          : "redis.url (the cluster's event log)");
  if (parts_of(profile).database && c.database.url.empty())
    missing.push_back(profile == Profile::kTrafficManager
                          ? "database.url (the shared PostgreSQL: counters of an hour or longer)"
                          : "database.url (the shared PostgreSQL)");
  if (profile == Profile::kGateway && c.gateway.control_plane_url.empty())
    missing.push_back("gateway.control_plane_url");
  if (missing.empty()) return;
  std::string line = "the " + std::string(profile_name(profile)) + " profile needs ";
  for (std::size_t i = 0; i < missing.size(); ++i) line += (i ? ", " : "") + missing[i];
  throw ConfigError(line);
}

}  // namespace portico

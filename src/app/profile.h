#pragma once
// What a node runs, by profile: the reference's all-in-one node, control plane, key manager,
// universal gateway and traffic manager (docs/deployment.md).
#include <string_view>

#include "common/config.h"

namespace portico {

enum class Profile { kAllInOne, kControlPlane, kKeyManager, kGateway, kTrafficManager };

struct ProfileParts {
  bool database = false;        // opens and migrates the database
  bool key_manager = false;     // /oauth2/*, the users and clients
  bool control_plane = false;   // publisher, developer portal, admin, analytics
  bool server = false;          // the control plane's listener (9443)
  bool remote_gateway = false;  // a gateway that reaches the control plane over HTTPS
  bool quota_leases = false;    // the traffic manager: cluster-wide quota (docs/throttling.md)
};

// Throws ConfigError naming the accepted profiles.
Profile parse_profile(std::string_view name);
std::string_view profile_name(Profile profile);
ProfileParts parts_of(Profile profile);

// The distributed profiles need settings that all-in-one can default: throws ConfigError with
// one line naming every one that is missing.
void require_settings(const Config& config, Profile profile);

}  // namespace portico

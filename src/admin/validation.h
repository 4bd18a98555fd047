#pragma once
// Checking and normalizing what admins send: throttling policies, deny-policy conditions and
// gateway environments. Each function reads only the fields it knows (read-only and unknown
// fields are dropped), throws ApiError 400 naming the offending field, and returns the
// canonical JSON that is stored.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "admin/admin.h"

namespace portico::admin {

// "subscription", "application", "advanced": the `level` column and the URL segment.
std::string_view level_name(PolicyLevel level);
std::optional<PolicyLevel> parse_level(std::string_view name);
// The reference's `type` discriminator, e.g. "SubscriptionThrottlePolicy".
std::string_view policy_type(PolicyLevel level);

// The policy's stored document (policyName, displayName, description, defaultLimit, and the
// level's own fields). Never contains policyId, type or isDeployed.
boost::json::object validate_policy(PolicyLevel level, const boost::json::object& body);

// A virtual host's host name (dot-separated labels of letters, digits and inner hyphens) and
// its httpContext ("", "/", "/gw", "gw-1"): one path segment, checked in one pass.
bool is_vhost_host(std::string_view host);
bool is_vhost_context(std::string_view context);

// An IPv4 or IPv6 address in comparable form.
struct IpAddress {
  int family = 0;  // 4 or 6
  std::array<std::uint8_t, 16> bytes{};
  auto operator<=>(const IpAddress&) const = default;
};
std::optional<IpAddress> parse_ip(std::string_view text);

// A deny policy's type and canonical value: API, APPLICATION and USER values are strings;
// IP is {"fixedIp", "invert"}; IPRANGE is {"startingIp", "endingIp", "invert"}.
struct DenyCondition {
  std::string type;
  boost::json::value value;
};
DenyCondition validate_deny_condition(const boost::json::object& body);

// The environment's stored document: name, displayName, description, provider, vhosts.
boost::json::object validate_environment(const boost::json::object& body);

}  // namespace portico::admin

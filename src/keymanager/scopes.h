#pragma once
// The reference's REST API scopes and which of Portico's roles grant them.
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace portico::keymanager {

inline constexpr std::string_view kRoleAdmin = "admin";
inline constexpr std::string_view kRolePublisher = "publisher";
inline constexpr std::string_view kRoleCreator = "creator";
inline constexpr std::string_view kRoleSubscriber = "subscriber";

bool is_known_role(std::string_view role);
const std::vector<std::string>& known_roles();

// Every `apim:*` scope the given roles grant.
std::set<std::string> scopes_for_roles(const std::vector<std::string>& roles);

// True for the reference's REST API scopes (`apim:...`), which roles govern.
bool is_rest_api_scope(std::string_view scope);

// RFC 6749 §3.3 scope-token syntax: 1*( %x21 / %x23-5B / %x5D-7E ).
bool is_valid_scope_token(std::string_view scope);

// Splits a space-separated scope string; empty tokens (repeated spaces) are skipped.
std::vector<std::string> split_scopes(std::string_view scope);
std::string join_scopes(const std::set<std::string>& scopes);

}  // namespace portico::keymanager

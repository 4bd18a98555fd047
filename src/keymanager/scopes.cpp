#include "keymanager/scopes.h"

#include <algorithm>
#include <map>

namespace portico::keymanager {
namespace {

// The reference's default role-to-scope mapping (its Internal/creator, Internal/publisher,
// Internal/subscriber and admin roles), reduced to the scopes Portico's REST APIs use.
const std::map<std::string, std::vector<std::string>, std::less<>>& role_scopes() {
  static const std::map<std::string, std::vector<std::string>, std::less<>> table = {
      {"creator",
       {"apim:api_create", "apim:api_view", "apim:api_manage", "apim:api_delete",
        "apim:api_definition_view", "apim:api_list_view", "apim:document_create",
        "apim:document_manage", "apim:subscription_view", "apim:tier_view",
        "apim:mediation_policy_view", "apim:common_operation_policy_view", "apim:api_import_export",
        "apim:publisher_settings", "apim:comment_view", "apim:comment_write",
        "apim:environment_read", "apim:label_read"}},
      {"publisher",
       {"apim:api_publish", "apim:api_view", "apim:api_list_view", "apim:api_definition_view",
        "apim:subscription_view", "apim:subscription_block", "apim:subscription_manage",
        "apim:document_manage", "apim:tier_view", "apim:publisher_settings", "apim:comment_view",
        "apim:environment_read", "apim:label_read"}},
      {"subscriber",
       {"apim:subscribe", "apim:app_manage", "apim:sub_manage", "apim:api_key",
        "apim:store_settings", "apim:app_import_export", "apim:sub_alert_manage",
        "apim:comment_view", "apim:comment_write", "apim:comment_manage"}},
  };
  return table;
}

// Scopes only the admin role holds, on top of every other role's.
const std::vector<std::string>& admin_only_scopes() {
  static const std::vector<std::string> scopes = {"apim:admin",
                                                  "apim:admin_operations",
                                                  "apim:admin_settings",
                                                  "apim:admin_alert_manage",
                                                  "apim:tier_manage",
                                                  "apim:bl_view",
                                                  "apim:bl_manage",
                                                  "apim:environment_manage",
                                                  "apim:api_workflow_approve",
                                                  "apim:api_workflow_view",
                                                  "apim:app_owner_change",
                                                  "apim:scope_manage",
                                                  "apim:shared_scope_manage",
                                                  "apim:policies_import_export",
                                                  "apim:label_manage",
                                                  "apim:mediation_policy_create",
                                                  "apim:mediation_policy_manage",
                                                  "apim:common_operation_policy_manage",
                                                  "apim:api_mediation_policy_manage",
                                                  "apim:tenant_theme_manage",
                                                  "apim:bot_data",
                                                  "apim:monetization_usage_publish",
                                                  "apim:api_generate_key",
                                                  "apim:api_product_import_export",
                                                  "apim:pub_alert_manage",
                                                  "apim:threat_protection_policy_create",
                                                  "apim:threat_protection_policy_manage",
                                                  "apim:client_certificates_view",
                                                  "apim:client_certificates_add",
                                                  "apim:client_certificates_update",
                                                  "apim:client_certificates_manage",
                                                  "apim:ep_certificates_view",
                                                  "apim:ep_certificates_add",
                                                  "apim:ep_certificates_update",
                                                  "apim:ep_certificates_manage"};
  return scopes;
}

}  // namespace

const std::vector<std::string>& known_roles() {
  static const std::vector<std::string> roles = {"admin", "publisher", "creator", "subscriber"};
  return roles;
}

bool is_known_role(std::string_view role) {
  auto& roles = known_roles();
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::set<std::string> scopes_for_roles(const std::vector<std::string>& roles) {
  std::set<std::string> scopes;
  for (auto& role : roles) {
    if (role == kRoleAdmin) {
      for (auto& [name, granted] : role_scopes()) scopes.insert(granted.begin(), granted.end());
      scopes.insert(admin_only_scopes().begin(), admin_only_scopes().end());
    } else if (auto it = role_scopes().find(role); it != role_scopes().end()) {
      scopes.insert(it->second.begin(), it->second.end());
    }
  }
  return scopes;
}

bool is_rest_api_scope(std::string_view scope) {
  return scope.rfind("apim:", 0) == 0;
}

bool is_valid_scope_token(std::string_view scope) {
  if (scope.empty() || scope.size() > 256) return false;
  return std::all_of(scope.begin(), scope.end(), [](unsigned char c) {
    return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
  });
}

std::vector<std::string> split_scopes(std::string_view scope) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < scope.size()) {
    auto end = scope.find(' ', pos);
    if (end == std::string_view::npos) end = scope.size();
    if (end > pos) out.emplace_back(scope.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

std::string join_scopes(const std::set<std::string>& scopes) {
  std::string out;
  for (auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

}  // namespace portico::keymanager

// Users through the SCIM 2.0 subset the reference's admins use (RFC 7643/7644): /scim2/Users
// create, list (startIndex, count, filter userName eq "..."), get, delete, and PATCH of
// roles and password. Admin only. Errors use SCIM's shape, not the REST APIs'.
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <regex>
#include <set>

#include "admin/admin_internal.h"
#include "common/api_error.h"
#include "common/clock.h"
#include "common/json_body.h"
#include "common/log.h"
#include "events/event_types.h"
#include "keymanager/scopes.h"

namespace portico::admin {
namespace {

namespace json = boost::json;

constexpr std::string_view kUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
constexpr std::string_view kListSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
constexpr std::string_view kErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";
constexpr std::string_view kPatchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
constexpr std::string_view kUsersPath = "/scim2/Users";
constexpr std::int64_t kDefaultCount = 100;
constexpr std::int64_t kMaxCount = 1000;
constexpr std::size_t kMaxOperations = 20;

// An ApiError that carries SCIM's scimType (RFC 7644 §3.12).
struct ScimError {
  int status;
  std::string scim_type;
  std::string detail;
};

http::Response scim_json(int status, const json::value& body) {
  auto response = http::Response::json(status, json::serialize(body));
  response.headers.set("Content-Type", "application/scim+json");
  return response;
}

http::Response scim_error(int status, const std::string& scim_type, const std::string& detail) {
  json::object body{{"schemas", json::array{kErrorSchema}},
                    {"status", std::to_string(status)},
                    {"detail", detail}};
  if (!scim_type.empty()) body["scimType"] = scim_type;
  return scim_json(status, body);
}

// The handler, answering every refusal in SCIM's error shape.
http::Handler scim_guarded(http::Handler handler) {
  return [handler = std::move(handler)](http::Request& request) {
    if (request.body.size() > kMaxBodyBytes)
      return scim_error(413, "",
                        "the body is larger than " + std::to_string(kMaxBodyBytes) + " bytes");
    try {
      return handler(request);
    } catch (const ScimError& e) {
      return scim_error(e.status, e.scim_type, e.detail);
    } catch (const ApiError& e) {
      std::string scim_type;
      if (e.status == 400) scim_type = "invalidValue";
      if (e.status == 409) scim_type = "uniqueness";
      auto response =
          scim_error(e.status, scim_type, e.description.empty() ? e.message : e.description);
      for (const auto& [name, value] : e.headers) response.headers.set(name, value);
      return response;
    } catch (const store::UnavailableError& e) {
      spdlog::error("scim: database unavailable: {}", e.what());
      auto response = scim_error(503, "", "The database is unavailable; retry later");
      response.headers.set("Retry-After", "5");
      return response;
    }
  };
}

json::object user_json(const store::UserRecord& user) {
  json::array roles;
  for (const auto& role : user.roles) roles.push_back(json::object{{"value", role}});
  return json::object{
      {"schemas", json::array{kUserSchema}},
      {"id", user.id},
      {"userName", user.username},
      {"roles", std::move(roles)},
      {"meta", json::object{{"resourceType", "User"},
                            {"created", iso_time(user.created_at)},
                            {"location", std::string(kUsersPath) + "/" + user.id}}}};
}

// SCIM roles: [{"value": "subscriber"}, ...]; plain strings are accepted too.
std::vector<std::string> read_roles(const json::value& value) {
  if (!value.is_array()) throw ScimError{400, "invalidValue", "'roles' must be an array"};
  const auto& array = value.as_array();
  if (array.size() > 20) throw ScimError{400, "invalidValue", "at most 20 roles"};
  std::vector<std::string> roles;
  for (const auto& item : array) {
    const json::value* role = &item;
    if (item.is_object()) {
      auto it = item.as_object().find("value");
      role = it == item.as_object().end() ? nullptr : &it->value();
    }
    if (role == nullptr || !role->is_string())
      throw ScimError{400, "invalidValue", "each role must be {\"value\": \"<role>\"}"};
    std::string name(role->as_string());
    if (!keymanager::is_known_role(name))
      throw ScimError{400, "invalidValue", "unknown role '" + name + "'"};
    roles.push_back(name);
  }
  return roles;
}

std::int64_t int_param(const http::Request& request, const std::string& name,
                       std::int64_t fallback) {
  auto text = request.query_param(name);
  if (!text) return fallback;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size())
    throw ScimError{400, "invalidValue", "'" + name + "' must be an integer"};
  return value;
}

// The one filter Portico supports: userName eq "value".
std::string user_name_filter(const std::string& filter) {
  static const std::regex kFilter(R"re(\s*userName\s+eq\s+"([^"\\]*)"\s*)re", std::regex::icase);
  std::smatch match;
  if (filter.size() > 300 || !std::regex_match(filter, match, kFilter))
    throw ScimError{400, "invalidFilter", "the only supported filter is userName eq \"name\""};
  return match[1];
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

void Admin::Impl::add_scim_routes(http::Router& router) {
  const std::string base(kUsersPath);
  auto& users = key_manager.users();

  auto find_or_404 = [&users](const http::Request& request) {
    const std::string& id = request.path_params.at("id");
    std::optional<store::UserRecord> user;
    if (id.size() <= 64) user = users.find_by_id(id);
    if (!user) throw ScimError{404, "", "no user with id '" + id + "'"};
    return *user;
  };

  router.add("POST", base, scim_guarded([this, &users](http::Request& request) {
               key_manager.authorize(request, "apim:admin");
               json::object body = json_body::parse_object(request.body);
               std::string username = json_body::required_string(body, "userName", 100);
               std::string password = json_body::required_string(body, "password", 1024);
               std::vector<std::string> roles;
               if (auto it = body.find("roles"); it != body.end() && !it->value().is_null())
                 roles = read_roles(it->value());
               auto user = users.create(username, password, roles);
               auto response = scim_json(201, user_json(user));
               response.headers.set("Location", std::string(kUsersPath) + "/" + user.id);
               return response;
             }));

  router.add(
      "GET", base, scim_guarded([this, &users](http::Request& request) {
        key_manager.authorize(request, "apim:admin");
        std::int64_t start = std::max<std::int64_t>(1, int_param(request, "startIndex", 1));
        std::int64_t count =
            std::clamp<std::int64_t>(int_param(request, "count", kDefaultCount), 0, kMaxCount);
        if (start > INT32_MAX) start = INT32_MAX;
        json::array resources;
        std::int64_t total = 0;
        if (auto filter = request.query_param("filter")) {
          auto user = users.find(user_name_filter(*filter));
          total = user ? 1 : 0;
          if (user && start == 1 && count > 0) resources.push_back(user_json(*user));
        } else {
          total = users.count();
          for (const auto& user : users.list(static_cast<int>(count), static_cast<int>(start - 1)))
            resources.push_back(user_json(user));
        }
        json::object body{{"schemas", json::array{kListSchema}},
                          {"totalResults", total},
                          {"startIndex", start},
                          {"itemsPerPage", resources.size()},
                          {"Resources", std::move(resources)}};
        return scim_json(200, body);
      }));

  router.add("GET", base + "/{id}", scim_guarded([this, find_or_404](http::Request& request) {
               key_manager.authorize(request, "apim:admin");
               return scim_json(200, user_json(find_or_404(request)));
             }));

  router.add("DELETE", base + "/{id}",
             scim_guarded([this, &users, find_or_404](http::Request& request) {
               auto caller = key_manager.authorize(request, "apim:admin");
               auto user = find_or_404(request);
               // An admin locking themself out helps nobody.
               if (user.username == caller.username)
                 throw ScimError{409, "mutability", "you cannot delete your own user"};
               if (!users.remove(user.id))
                 throw ScimError{404, "", "no user with id '" + user.id + "'"};
               // The user's grants end with them, as in the reference: refresh tokens and
               // unexpired access tokens are revoked, at the gateways too.
               key_manager.tokens().revoke_user_grants(user.username);
               publish(events::types::kUserDeleted, json::object{{"username", user.username}});
               http::Response response;
               response.status = 204;
               return response;
             }));

  router.add(
      "PATCH", base + "/{id}", scim_guarded([this, &users, find_or_404](http::Request& request) {
        auto caller = key_manager.authorize(request, "apim:admin");
        auto user = find_or_404(request);
        json::object body = json_body::parse_object(request.body);
        auto* ops = json_body::optional_array(body, "Operations");
        if (ops == nullptr || ops->empty())
          throw ScimError{400, "invalidSyntax", "'Operations' must be a non-empty array"};
        if (ops->size() > kMaxOperations)
          throw ScimError{400, "invalidSyntax", "at most 20 operations"};
        if (auto* schemas = json_body::optional_array(body, "schemas")) {
          bool patch = std::any_of(schemas->begin(), schemas->end(), [](auto& s) {
            return s.is_string() && s.as_string() == kPatchSchema;
          });
          if (!patch)
            throw ScimError{400, "invalidSyntax",
                            "'schemas' must include " + std::string(kPatchSchema)};
        }

        // Work out the outcome of every operation before writing anything.
        std::set<std::string> roles(user.roles.begin(), user.roles.end());
        std::optional<std::string> password;
        static const std::regex kRoleFilter(R"re(roles\[\s*value\s+eq\s+"([^"\\]*)"\s*\])re",
                                            std::regex::icase);
        for (const auto& op_value : *ops) {
          if (!op_value.is_object())
            throw ScimError{400, "invalidSyntax", "each operation must be an object"};
          const auto& op_object = op_value.as_object();
          std::string op = lower(json_body::required_string(op_object, "op", 16));
          if (op != "add" && op != "replace" && op != "remove")
            throw ScimError{400, "invalidSyntax", "'op' must be add, replace or remove"};
          std::string path = json_body::optional_string(op_object, "path", 200).value_or("");
          auto value_it = op_object.find("value");
          const json::value* value = value_it == op_object.end() ? nullptr : &value_it->value();

          auto apply_roles = [&](const std::string& operation, const json::value& v) {
            auto given = read_roles(v);
            if (operation == "replace") roles.clear();
            for (auto& r : given) {
              if (operation == "remove")
                roles.erase(r);
              else
                roles.insert(r);
            }
          };
          std::smatch match;
          if (path.empty()) {
            // {"op": "replace", "value": {"roles": [...], "password": "..."}}
            if (op == "remove" || value == nullptr || !value->is_object())
              throw ScimError{400, "noTarget",
                              "an operation without 'path' needs an "
                              "object 'value'"};
            for (const auto& [key, v] : value->as_object()) {
              if (key == "roles") {
                apply_roles(op, v);
              } else if (key == "password" && v.is_string()) {
                password = std::string(v.as_string());
              } else {
                throw ScimError{400, "invalidPath", "only 'roles' and 'password' can be changed"};
              }
            }
          } else if (lower(path) == "roles") {
            if (op == "remove" && value == nullptr) {
              roles.clear();
            } else {
              if (value == nullptr) throw ScimError{400, "invalidValue", "'value' is required"};
              apply_roles(op, *value);
            }
          } else if (std::regex_match(path, match, kRoleFilter) && op == "remove") {
            roles.erase(match[1].str());
          } else if (lower(path) == "password" && op != "remove") {
            if (value == nullptr || !value->is_string())
              throw ScimError{400, "invalidValue", "'password' must be a string"};
            password = std::string(value->as_string());
          } else {
            throw ScimError{400, "invalidPath",
                            "supported paths: roles, roles[value eq \"x\"], password"};
          }
        }
        std::vector<std::string> new_roles(roles.begin(), roles.end());
        if (user.username == caller.username && !roles.count(std::string(keymanager::kRoleAdmin)))
          throw ScimError{409, "mutability", "you cannot remove your own admin role"};
        if (password) users.set_password(user.id, *password);
        auto updated = users.set_roles(user.id, new_roles);
        // A new password ends the grants the old one gave. A role change need not: a refresh
        // re-evaluates the grant's scopes against the roles of the moment.
        if (password) key_manager.tokens().revoke_user_grants(user.username);
        std::set<std::string> before(user.roles.begin(), user.roles.end());
        if (password || before != roles)
          publish(events::types::kUserUpdated, json::object{{"username", user.username}});
        return scim_json(200, user_json(updated));
      }));
}

}  // namespace portico::admin

// Dynamic client registration at the reference's path (/client-registration/v0.17/register),
// accepting both the reference's field names and RFC 7591's.
#include <boost/json.hpp>

#include "common/api_error.h"
#include "keymanager/routes.h"
#include "keymanager/scopes.h"

namespace json = boost::json;

namespace portico::keymanager {
namespace {

constexpr std::string_view kDefaultGrants = "client_credentials password refresh_token";

std::string string_field(const json::object& body, std::string_view name) {
  auto it = body.find(name);
  if (it == body.end() || it->value().is_null()) return {};
  if (!it->value().is_string())
    throw ApiError::bad_request("'" + std::string(name) + "' must be a string");
  return std::string(it->value().as_string());
}

std::vector<std::string> string_list_field(const json::object& body, std::string_view name) {
  std::vector<std::string> out;
  auto it = body.find(name);
  if (it == body.end() || it->value().is_null()) return out;
  if (!it->value().is_array())
    throw ApiError::bad_request("'" + std::string(name) + "' must be an array of strings");
  for (auto& v : it->value().as_array()) {
    if (!v.is_string())
      throw ApiError::bad_request("'" + std::string(name) + "' must be an array of strings");
    out.emplace_back(v.as_string());
  }
  return out;
}

ClientRegistration read_registration(KeyManager& km, const json::object& body,
                                     const Principal& caller) {
  ClientRegistration r;
  r.name = string_field(body, "clientName");
  if (r.name.empty()) r.name = string_field(body, "client_name");
  if (r.name.empty()) throw ApiError::bad_request("clientName is required");
  r.owner = string_field(body, "owner");
  if (r.owner.empty()) r.owner = caller.username;
  if (r.owner != caller.username && !caller.has_role(kRoleAdmin))
    throw ApiError::forbidden("only an administrator may register a client for another owner");
  if (r.owner != caller.username && !km.users().find(r.owner))
    throw ApiError::bad_request("owner '" + r.owner + "' is not a user");
  std::string grants = string_field(body, "grantType");
  r.grant_types = grants.empty() ? string_list_field(body, "grant_types") : split_scopes(grants);
  if (r.grant_types.empty()) r.grant_types = split_scopes(kDefaultGrants);
  auto callback = string_field(body, "callbackUrl");
  if (!callback.empty()) r.redirect_uris.push_back(callback);
  for (auto& uri : string_list_field(body, "redirect_uris")) r.redirect_uris.push_back(uri);
  auto token_type = string_field(body, "tokenType");
  if (!token_type.empty()) r.token_type = token_type;
  auto auth_method = string_field(body, "token_endpoint_auth_method");
  if (!auth_method.empty() && auth_method != "none" && auth_method != "client_secret_basic" &&
      auth_method != "client_secret_post")
    throw ApiError::bad_request("token_endpoint_auth_method '" + auth_method +
                                "' is not supported");
  r.public_client = auth_method == "none";
  // An administrator registering a client vouches for it (the portals' and tools' clients):
  // it may carry REST API scopes. Anyone else's client may not until an administrator says so
  // (PUT /api/am/admin/v4/oauth-clients/{clientId}).
  r.trusted = caller.has_role(kRoleAdmin);
  return r;
}

std::string registration_response(const RegisteredClient& registered) {
  auto& c = registered.record;
  std::string grants;
  for (auto& g : c.grant_types) grants += (grants.empty() ? "" : " ") + g;
  std::string callback = c.redirect_uris.empty() ? "" : c.redirect_uris.front();
  json::object body;
  // The reference's fields.
  body["clientId"] = c.client_id;
  body["clientName"] = c.name;
  body["callBackURL"] = callback;
  body["clientSecret"] = registered.client_secret;
  body["isSaasApplication"] = true;
  body["appOwner"] = c.owner;
  body["tokenType"] = c.token_type;
  body["jsonString"] = json::serialize(
      json::object{{"grant_types", grants}, {"redirect_uris", callback}, {"client_name", c.name}});
  // RFC 7591 §3.2.1.
  body["client_id"] = c.client_id;
  if (!registered.client_secret.empty()) {
    body["client_secret"] = registered.client_secret;
    body["client_secret_expires_at"] = 0;
  }
  body["client_id_issued_at"] = c.created_at;
  body["client_name"] = c.name;
  json::array uris;
  for (auto& u : c.redirect_uris) uris.emplace_back(u);
  body["redirect_uris"] = std::move(uris);
  json::array grant_list;
  for (auto& g : c.grant_types) grant_list.emplace_back(g);
  body["grant_types"] = std::move(grant_list);
  body["token_endpoint_auth_method"] = c.public_client ? "none" : "client_secret_basic";
  return json::serialize(body);
}

}  // namespace

void add_registration_routes(KeyManager& km, http::Router& router) {
  router.add("POST", "/client-registration/v0.17/register", [&km](http::Request& request) {
    auto caller = km.authenticate(request);
    // HTTP Basic gives a user every scope of its roles; a bearer token must carry a scope of
    // the portals, not merely `default`, to register clients.
    constexpr std::string_view kRegistrationScopes[] = {"apim:subscribe", "apim:api_create",
                                                        "apim:api_publish", "apim:admin"};
    if (std::none_of(std::begin(kRegistrationScopes), std::end(kRegistrationScopes),
                     [&](std::string_view s) { return caller.has_scope(s); }))
      throw ApiError::forbidden(
          "registering a client needs one of the scopes apim:subscribe, "
          "apim:api_create, apim:api_publish or apim:admin");
    boost::system::error_code ec;
    auto parsed = json::parse(request.body, ec);
    if (ec || !parsed.is_object()) throw ApiError::bad_request("the body must be a JSON object");
    auto registered =
        km.clients().register_client(read_registration(km, parsed.as_object(), caller));
    auto response = http::Response::json(200, registration_response(registered));
    response.headers.set("Cache-Control", "no-store");
    return response;
  });
}

}  // namespace portico::keymanager

// Per-gateway credentials (/api/am/admin/v4/gateway-credentials): each gateway of an
// environment authenticates to the internal data API with its own user name and password, which
// an admin creates (the password is shown once) and revokes. A revoked credential's pulls and
// event streams are refused with 401, and its open streams end (docs/events.md).
#include <boost/json/serialize.hpp>

#include "admin/admin_internal.h"
#include "common/api_error.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/json_body.h"
#include "events/event_types.h"

namespace portico::admin {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxName = 100;

json::object credential_json(const store::GatewayCredentialRecord& r) {
  return json::object{{"id", r.id},
                      {"name", r.name},
                      {"environment", r.environment},
                      {"username", r.username},
                      {"createdTime", r.created_time},
                      {"revoked", r.revoked_time != 0}};
}

}  // namespace

void Admin::Impl::add_gateway_credential_routes(http::Router& router) {
  const std::string base = std::string(kAdminBase) + "/gateway-credentials";

  router.add("GET", base, guarded([this](http::Request& request) {
               authorize(request, "apim:admin");
               json::array list;
               for (const auto& record : gateway_credentials.list())
                 list.push_back(credential_json(record));
               json::object body{{"count", list.size()}, {"list", std::move(list)}};
               return json_response(200, body);
             }));

  router.add("POST", base, guarded([this, base](http::Request& request) {
               authorize(request, "apim:admin");
               auto doc = json_body::parse_object(request.body);
               std::string name = json_body::required_string(doc, "name", kMaxName);
               std::string environment = json_body::required_string(doc, "environment", 255);
               if (name.empty()) throw ApiError::bad_request("'name' must not be empty");
               if (!environments.find_by_name(environment))
                 throw ApiError::bad_request("no environment named '" + environment + "'");
               std::string password = crypto::random_token(32);
               store::GatewayCredentialRecord record{
                   crypto::uuid_v4(),
                   std::string(keymanager::kGatewayCredentialPrefix) + crypto::random_token(9),
                   crypto::sha256_hex(password),
                   name,
                   environment,
                   unix_now()};
               gateway_credentials.create(record);
               json::object body = credential_json(record);
               body["password"] = password;  // shown once: only its hash is kept
               auto response = json_response(201, body);
               response.headers.set("Location", base + "/" + record.id);
               return response;
             }));

  router.add("DELETE", base + "/{credentialId}", guarded([this](http::Request& request) {
               authorize(request, "apim:admin");
               const std::string& id = request.path_params.at("credentialId");
               if (!gateway_credentials.find(id))
                 throw ApiError::not_found("no gateway credential with id '" + id + "'");
               if (gateway_credentials.revoke(id, unix_now()))
                 publish(events::types::kGatewayCredentialRevoked, json::object{{"id", id}});
               return empty_ok();
             }));
}

}  // namespace portico::admin

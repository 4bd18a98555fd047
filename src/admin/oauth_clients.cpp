// OAuth clients an administrator trusts: /oauth-clients/{clientId}. Only a trusted client's
// tokens may carry the REST API scopes (apim:*) of the users who sign in through it, so
// that a client any developer may register (named, say, "Portico Publisher") cannot collect
// an administrator's scopes. Clients an administrator registers are trusted from the start.
#include <boost/json/object.hpp>

#include "admin/admin_internal.h"
#include "common/api_error.h"
#include "common/json_body.h"
#include "common/log.h"

namespace portico::admin {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxClientIdLength = 256;

json::object client_json(const store::ClientRecord& client) {
  return json::object{{"clientId", client.client_id},
                      {"clientName", client.name},
                      {"owner", client.owner},
                      {"applicationId", client.application_id},
                      {"trusted", client.trusted}};
}

}  // namespace

void Admin::Impl::add_oauth_client_routes(http::Router& router) {
  const std::string item = std::string(kAdminBase) + "/oauth-clients/{clientId}";

  auto find_or_404 = [this](const http::Request& request) {
    const std::string& id = request.path_params.at("clientId");
    std::optional<store::ClientRecord> client;
    if (id.size() <= kMaxClientIdLength) client = key_manager.clients().find(id);
    if (!client) throw ApiError::not_found("no OAuth client with id '" + id + "'");
    return *client;
  };

  router.add("GET", item, guarded([this, find_or_404](http::Request& request) {
               key_manager.authorize(request, "apim:admin");
               return json_response(200, client_json(find_or_404(request)));
             }));

  // Only `trusted` changes; the other fields are the client's own (DCR, the portal's keys).
  router.add("PUT", item, guarded([this, find_or_404](http::Request& request) {
               auto caller = key_manager.authorize(request, "apim:admin");
               auto client = find_or_404(request);
               json::object body = json_body::parse_object(request.body);
               auto trusted = json_body::optional_bool(body, "trusted");
               if (!trusted) throw ApiError::bad_request("'trusted' (true or false) is required");
               auto updated = key_manager.clients().set_trusted(client.client_id, *trusted);
               if (!updated)
                 throw ApiError::not_found("no OAuth client with id '" + client.client_id + "'");
               spdlog::info("admin: '{}' marked OAuth client {} ('{}') {}", caller.username,
                            client.client_id, client.name, *trusted ? "trusted" : "untrusted");
               return json_response(200, client_json(*updated));
             }));
}

}  // namespace portico::admin

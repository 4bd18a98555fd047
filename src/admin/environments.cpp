// Gateway environments: /environments.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/admin_internal.h"
#include "admin/validation.h"
#include "common/api_error.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/json_body.h"
#include "common/log.h"
#include "events/event_types.h"

namespace portico::admin {

namespace json = boost::json;

json::object environment_json(const store::EnvironmentRecord& record) {
  json::object out{{"id", record.id}};
  json::value doc = json::parse(record.document);
  for (auto& [key, value] : doc.as_object()) out[key] = value;
  // The reference marks environments from its configuration file read-only; Portico's
  // Default can be edited (not renamed or deleted), so none is read-only.
  out["isReadOnly"] = false;
  return out;
}

void Admin::Impl::seed_environment() {
  // The reference's default gateway: localhost, HTTP 8280 and HTTPS 8243.
  json::object doc{{"name", kDefaultEnvironment},
                   {"displayName", kDefaultEnvironment},
                   {"description", "The default gateway environment"},
                   {"provider", "wso2"},
                   {"vhosts", json::array{json::object{{"host", "localhost"},
                                                       {"httpContext", ""},
                                                       {"httpPort", 8280},
                                                       {"httpsPort", 8243},
                                                       {"wsPort", 9099},
                                                       {"wssPort", 8099}}}}};
  store::EnvironmentRecord record{crypto::uuid_v4(), std::string(kDefaultEnvironment),
                                  json::serialize(doc), unix_now()};
  try {
    if (environments.create_if_missing(record))
      spdlog::info("created the gateway environment '{}'", kDefaultEnvironment);
  } catch (const store::ConflictError&) {
    // Another node created it at the same moment.
  }
}

void Admin::Impl::add_environment_routes(http::Router& router) {
  const std::string base = std::string(kAdminBase) + "/environments";

  auto find_or_404 = [this](const http::Request& request) {
    const std::string& id = request.path_params.at("environmentId");
    std::optional<store::EnvironmentRecord> record;
    if (id.size() <= 64) record = environments.find(id);
    if (!record) throw ApiError::not_found("no environment with id '" + id + "'");
    return *record;
  };
  auto event = [this](std::string_view type, const store::EnvironmentRecord& r) {
    publish(type, json::object{{"environment_id", r.id}, {"name", r.name}});
  };

  router.add("GET", base, guarded([this](http::Request& request) {
               authorize(request, "apim:environment_read");
               json::array list;
               for (const auto& record : environments.list())
                 list.push_back(environment_json(record));
               json::object body{{"count", list.size()}, {"list", std::move(list)}};
               return json_response(200, body);
             }));

  router.add(
      "POST", base, guarded([this, base, event](http::Request& request) {
        authorize(request, "apim:environment_manage");
        json::object doc = validate_environment(json_body::parse_object(request.body));
        store::EnvironmentRecord record{crypto::uuid_v4(), std::string(doc.at("name").as_string()),
                                        json::serialize(doc), unix_now()};
        try {
          environments.create(record);
        } catch (const store::ConflictError&) {
          throw ApiError::conflict("an environment named '" + record.name + "' already exists");
        }
        event(events::types::kEnvironmentCreated, record);
        auto response = json_response(201, environment_json(record));
        response.headers.set("Location", base + "/" + record.id);
        return response;
      }));

  // Not in the reference (it lists only), but a client that got a Location should be able
  // to follow it.
  router.add("GET", base + "/{environmentId}", guarded([this, find_or_404](http::Request& request) {
               authorize(request, "apim:environment_read");
               return json_response(200, environment_json(find_or_404(request)));
             }));

  router.add(
      "PUT", base + "/{environmentId}", guarded([this, find_or_404, event](http::Request& request) {
        authorize(request, "apim:environment_manage");
        auto record = find_or_404(request);
        json::object doc = validate_environment(json_body::parse_object(request.body));
        // Deployments refer to an environment by name.
        if (doc.at("name").as_string() != record.name)
          throw ApiError::bad_request("'name' cannot be changed (it is '" + record.name + "')");
        record.document = json::serialize(doc);
        if (!environments.update_document(record.id, record.document))
          throw ApiError::not_found("no environment with id '" + record.id + "'");
        event(events::types::kEnvironmentUpdated, record);
        return json_response(200, environment_json(record));
      }));

  router.add(
      "DELETE", base + "/{environmentId}",
      guarded([this, find_or_404, event](http::Request& request) {
        authorize(request, "apim:environment_manage");
        auto record = find_or_404(request);
        if (record.name == kDefaultEnvironment)
          throw ApiError::conflict("the '" + record.name + "' environment cannot be deleted");
        switch (environments.remove_unless_used(record.id)) {
          case store::EnvironmentRemoval::not_found:
            throw ApiError::not_found("no environment with id '" + record.id + "'");
          case store::EnvironmentRemoval::in_use:
            throw ApiError::conflict("APIs are deployed to '" + record.name +
                                     "'; undeploy them before deleting it");
          case store::EnvironmentRemoval::removed:
            break;
        }
        event(events::types::kEnvironmentDeleted, record);
        return empty_ok();
      }));
}

}  // namespace portico::admin

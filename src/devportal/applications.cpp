// Applications, their OAuth keys (one Key Manager client per key type), access tokens and
// API keys. Every route answers 404 for another user's application: object-level
// authorization that does not reveal what exists.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/json_body.h"
#include "common/jwt.h"
#include "devportal/devportal_impl.h"
#include "events/event_types.h"
#include "http/paging.h"

namespace portico::devportal {
namespace {

namespace types = events::types;

constexpr std::size_t kMaxAttributes = 50;

std::string app_path(std::string_view tail = "") {
  return std::string(kBasePath) + "/applications" + std::string(tail);
}

json::object app_event(const store::ApplicationRecord& app) {
  return {{"application_id", app.id},
          {"name", app.name},
          {"owner", app.owner},
          {"throttling_policy", app.throttling_policy}};
}

json::object key_event(const store::KeyMappingRecord& m) {
  return {{"application_id", m.application_id},
          {"key_mapping_id", m.id},
          {"key_type", m.key_type},
          {"client_id", m.client_id}};
}

// The writable fields of an application, from a create or update body. Read-only fields
// (applicationId, owner, status, keys, subscriptionCount...) are never read.
void read_application_fields(DevPortalState& state, const json::object& body,
                             store::ApplicationRecord& app) {
  app.name = json_body::required_string(body, "name", 100);
  if (app.name.find_first_not_of(" \t") == std::string::npos) {
    throw ApiError::bad_request("'name' must not be blank");
  }
  app.throttling_policy = json_body::required_string(body, "throttlingPolicy", 256);
  if (!state.admin.policy_exists(admin::PolicyLevel::application, app.throttling_policy)) {
    throw ApiError::bad_request("Application throttling policy '" + app.throttling_policy +
                                "' does not exist");
  }
  app.token_type = json_body::one_of(
      "tokenType", json_body::optional_string(body, "tokenType", 16).value_or("JWT"),
      {"JWT", "OAUTH"});
  json::object doc;
  doc["description"] = json_body::optional_string(body, "description", 512).value_or("");
  json::object attributes;
  if (const json::object* sent = json_body::optional_object(body, "attributes")) {
    if (sent->size() > kMaxAttributes) {
      throw ApiError::bad_request("'attributes' holds more than 50 entries");
    }
    for (const auto& [key, value] : *sent) {
      if (!value.is_string() || key.size() > 256 || value.as_string().size() > 1024) {
        throw ApiError::bad_request(
            "'attributes' values must be strings of at most 1024 "
            "characters");
      }
      attributes[key] = value;
    }
  }
  doc["attributes"] = attributes;
  app.document = json::serialize(doc);
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find(' ', at);
    if (end == std::string::npos) end = text.size();
    if (end > at) out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

json::array string_array(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& item : items) out.emplace_back(item);
  return out;
}

json::object token_json(const keymanager::IssuedToken& token) {
  return {{"accessToken", token.access_token},
          {"tokenScopes", string_array(split_words(token.scope))},
          {"validityTime", token.expires_in}};
}

// The reference's ApplicationKey; the secret only when it has just been created.
json::object key_json(const store::KeyMappingRecord& mapping, const store::ClientRecord& client,
                      const std::string& secret) {
  json::object o;
  o["keyMappingId"] = mapping.id;
  o["keyManager"] = kResidentKeyManager;
  o["consumerKey"] = client.client_id;
  o["consumerSecret"] = secret.empty() ? json::value(nullptr) : json::value(secret);
  o["supportedGrantTypes"] = string_array(client.grant_types);
  o["callbackUrl"] = client.redirect_uris.empty() ? "" : client.redirect_uris.front();
  o["keyState"] = "COMPLETED";
  o["keyType"] = mapping.key_type;
  o["mode"] = "CREATED";
  o["groupId"] = nullptr;
  o["token"] = nullptr;
  o["additionalProperties"] =
      json::object{{"application_access_token_expiry_time", client.access_token_lifetime}};
  return o;
}

// validityTime is a string in the reference's schema; numbers are accepted too.
std::int64_t read_lifetime(const json::object& body, std::string_view field) {
  auto it = body.find(field);
  if (it == body.end() || it->value().is_null()) return 0;
  std::int64_t value = 0;
  if (it->value().is_int64()) {
    value = it->value().as_int64();
  } else if (it->value().is_string()) {
    std::string text(it->value().as_string());
    if (text.empty() || text.size() > 12 ||
        text.find_first_not_of("-0123456789") != std::string::npos) {
      throw ApiError::bad_request("'" + std::string(field) + "' must be a number of seconds");
    }
    value = std::stoll(text);
  } else {
    throw ApiError::bad_request("'" + std::string(field) + "' must be a number of seconds");
  }
  // -1 and 0 ask the reference for its default lifetime.
  if (value <= 0) return 0;
  if (value > keymanager::kMaxAccessTokenLifetime) {
    throw ApiError::bad_request("'" + std::string(field) + "' exceeds " +
                                std::to_string(keymanager::kMaxAccessTokenLifetime) + " seconds");
  }
  return value;
}

// The Key Manager refuses malformed and unknown scopes with its OAuth error type; here they
// are a 400 of this API, checked before anything is registered or issued.
std::string checked_scopes(DevPortalState& s, const std::vector<std::string>& scopes) {
  std::string joined = join(scopes, " ");
  try {
    s.km.tokens().grant_scopes(joined, {});
  } catch (const ApiError&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw ApiError::bad_request(std::string("'scopes': ") + e.what());
  }
  return joined;
}

std::string read_key_type(const std::string& value) {
  return json_body::one_of("keyType", value, {"PRODUCTION", "SANDBOX"});
}

}  // namespace

void register_application_routes(DevPortalState& state, http::Router& router) {
  auto& s = state;

  // ---- applications ----------------------------------------------------------------------

  router.add("GET", app_path(), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubscribe);
    http::Page page = http::read_page(request);
    std::string query = request.query_param("query").value_or("");
    if (query.size() > 100) throw ApiError::bad_request("'query' is longer than 100 characters");
    json::array list;
    for (const auto& app :
         s.applications.list_owned(caller.username, query, page.limit, page.offset)) {
      list.push_back(s.application_json(app, false));
    }
    std::int64_t total = s.applications.count_owned(caller.username, query);
    return json_response(200, http::list_envelope(std::move(list), page, total, "/applications"));
  });

  router.add("POST", app_path(), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeAppManage);
    json::object body = json_body::parse_object(request.body);
    store::ApplicationRecord app;
    read_application_fields(s, body, app);
    app.id = crypto::uuid_v4();
    app.owner = caller.username;
    app.status = "APPROVED";
    app.created_time = app.updated_time = unix_now();
    try {
      s.applications.create(app);
    } catch (const store::ConflictError&) {
      throw ApiError::conflict("An application with name '" + app.name + "' already exists");
    }
    s.publish(types::kApplicationCreated, app_event(app));
    http::Response response = json_response(201, s.application_json(app, true));
    response.headers.set("Location", app_path("/" + app.id));
    return response;
  });

  router.add("GET", app_path("/{applicationId}"), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubscribe);
    auto app = s.owned_application(request.path_params["applicationId"], caller.username);
    return json_response(200, s.application_json(app, true));
  });

  router.add("PUT", app_path("/{applicationId}"), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeAppManage);
    auto app = s.owned_application(request.path_params["applicationId"], caller.username);
    json::object body = json_body::parse_object(request.body);
    read_application_fields(s, body, app);
    app.updated_time = unix_now();
    try {
      if (!s.applications.update(app)) throw ApiError::not_found("Application not found");
    } catch (const store::ConflictError&) {
      throw ApiError::conflict("An application with name '" + app.name + "' already exists");
    }
    // Tokens carry the application's name, tier and token type: its clients follow.
    for (const auto& m : s.applications.key_mappings(app.id))
      s.km.clients().update_application(m.client_id, app.name, app.throttling_policy,
                                        app.token_type);
    s.publish(types::kApplicationUpdated, app_event(app));
    return json_response(200, s.application_json(app, true));
  });

  router.add("DELETE", app_path("/{applicationId}"), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeAppManage);
    auto app = s.owned_application(request.path_params["applicationId"], caller.username);
    auto mappings = s.applications.key_mappings(app.id);
    auto subscriptions = s.subscriptions.list({app.id, "", ""}, 1LL << 40, 0);
    if (!s.applications.remove(app.id)) throw ApiError::not_found("Application not found");
    // The rows are gone; the clients go after them so that a failure here leaves an unused
    // client (logged), never a mapping that points nowhere.
    for (const auto& m : mappings) {
      try {
        s.km.clients().remove(m.client_id);
      } catch (const std::exception& e) {
        spdlog::warn("application {}: removing client {} failed: {}", app.id, m.client_id,
                     e.what());
      }
      s.publish(types::kKeyMappingDeleted, key_event(m));
    }
    for (const auto& sub : subscriptions) {
      s.publish(types::kSubscriptionDeleted,
                json::object{{"subscription_id", sub.id},
                             {"api_id", sub.api_id},
                             {"application_id", sub.application_id},
                             {"throttling_policy", sub.throttling_policy},
                             {"status", sub.status}});
    }
    s.publish(types::kApplicationDeleted, app_event(app));
    return http::Response::json(200, "");
  });

  // ---- OAuth keys --------------------------------------------------------------------------

  router.add("POST", app_path("/{applicationId}/generate-keys"), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeAppManage);
    auto app = s.owned_application(request.path_params["applicationId"], caller.username);
    json::object body = json_body::parse_object(request.body);
    std::string key_type = read_key_type(json_body::required_string(body, "keyType", 16));
    if (auto km_name = json_body::optional_string(body, "keyManager", 100);
        km_name && *km_name != kResidentKeyManager && *km_name != "default") {
      throw ApiError::bad_request("Key manager '" + *km_name + "' does not exist");
    }
    auto grants = json_body::optional_string_array(body, "grantTypesToBeSupported", 10, 100);
    if (!grants) throw ApiError::bad_request("'grantTypesToBeSupported' is required");
    auto callback = json_body::optional_string(body, "callbackUrl", 2048).value_or("");
    auto scopes = json_body::optional_string_array(body, "scopes", 50, 256)
                      .value_or(std::vector<std::string>{});
    std::int64_t lifetime = read_lifetime(body, "validityTime");
    std::string scope = checked_scopes(s, scopes);

    // One mapping per key type: checked first so that no client is registered for nothing.
    for (const auto& m : s.applications.key_mappings(app.id)) {
      if (m.key_type == key_type) {
        throw ApiError::conflict("Application already has " + key_type + " keys");
      }
    }
    keymanager::ClientRegistration registration;
    registration.name = app.owner + "_" + app.name + "_" + key_type;
    registration.owner = app.owner;
    registration.grant_types = *grants;
    if (!callback.empty()) registration.redirect_uris = {callback};
    registration.token_type = app.token_type;
    registration.application_id = app.id;
    registration.application_name = app.name;
    registration.application_tier = app.throttling_policy;
    registration.key_type = key_type;
    registration.access_token_lifetime = lifetime;
    keymanager::RegisteredClient client = s.km.clients().register_client(registration);

    store::KeyMappingRecord mapping;
    mapping.id = crypto::uuid_v4();
    mapping.application_id = app.id;
    mapping.key_type = key_type;
    mapping.client_id = client.record.client_id;
    mapping.document =
        json::serialize(json::object{{"keyManager", kResidentKeyManager}, {"mode", "CREATED"}});
    mapping.created_time = unix_now();
    try {
      s.applications.add_key_mapping(mapping);
    } catch (...) {
      // Nothing half-written: the client exists only with its mapping.
      s.km.clients().remove(client.record.client_id);
      try {
        throw;
      } catch (const store::ConflictError&) {
        throw ApiError::conflict("Application already has " + key_type + " keys");
      }
    }
    s.publish(types::kKeyMappingCreated, key_event(mapping));

    json::object out = key_json(mapping, client.record, client.client_secret);
    if (std::find(client.record.grant_types.begin(), client.record.grant_types.end(),
                  keymanager::kGrantClientCredentials) != client.record.grant_types.end()) {
      auto token = s.km.tokens().issue_for_client(client.record, scope, lifetime);
      out["token"] = token_json(token);
    }
    return json_response(200, out);
  });

  // The caller's mapping and its client, or 404.
  auto owned_key = [&s](http::Request& request, std::string_view scope) {
    auto caller = s.km.authorize(request, scope);
    auto app = s.owned_application(request.path_params["applicationId"], caller.username);
    auto mapping = s.applications.find_key_mapping(app.id, request.path_params["keyMappingId"]);
    if (!mapping) throw ApiError::not_found("Key mapping not found");
    auto client = s.km.clients().find(mapping->client_id);
    if (!client) throw ApiError::not_found("Key mapping not found");
    return std::make_tuple(app, *mapping, *client);
  };

  router.add("GET", app_path("/{applicationId}/oauth-keys"), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubscribe);
    auto app = s.owned_application(request.path_params["applicationId"], caller.username);
    json::array list;
    for (const auto& m : s.applications.key_mappings(app.id)) {
      if (auto client = s.km.clients().find(m.client_id)) list.push_back(key_json(m, *client, ""));
    }
    std::size_t n = list.size();
    return json_response(200, json::object{{"count", n}, {"list", std::move(list)}});
  });

  router.add("GET", app_path("/{applicationId}/oauth-keys/{keyMappingId}"),
             [owned_key](http::Request& request) {
               auto [app, mapping, client] = owned_key(request, kScopeSubscribe);
               return json_response(200, key_json(mapping, client, ""));
             });

  router.add("PUT", app_path("/{applicationId}/oauth-keys/{keyMappingId}"),
             [&s, owned_key](http::Request& request) {
               auto [app, mapping, client] = owned_key(request, kScopeAppManage);
               json::object body = json_body::parse_object(request.body);
               keymanager::ClientRegistration changes;
               changes.name = client.name;
               changes.owner = client.owner;
               changes.grant_types =
                   json_body::optional_string_array(body, "supportedGrantTypes", 10, 100)
                       .value_or(client.grant_types);
               if (auto cb = json_body::optional_string(body, "callbackUrl", 2048)) {
                 changes.redirect_uris.clear();
                 if (!cb->empty()) changes.redirect_uris = {*cb};
               } else {
                 changes.redirect_uris = client.redirect_uris;
               }
               changes.token_type = client.token_type;
               changes.access_token_lifetime = client.access_token_lifetime;
               store::ClientRecord updated = s.km.clients().update(client.client_id, changes);
               s.publish(types::kKeyMappingUpdated, key_event(mapping));
               return json_response(200, key_json(mapping, updated, ""));
             });

  router.add("POST", app_path("/{applicationId}/oauth-keys/{keyMappingId}/regenerate-secret"),
             [&s, owned_key](http::Request& request) {
               auto [app, mapping, client] = owned_key(request, kScopeAppManage);
               auto secret = s.km.clients().regenerate_secret(client.client_id);
               if (!secret) throw ApiError::bad_request("The client has no secret");
               s.publish(types::kKeyMappingUpdated, key_event(mapping));
               return json_response(200, json::object{{"consumerKey", client.client_id},
                                                      {"consumerSecret", *secret}});
             });

  router.add("POST", app_path("/{applicationId}/oauth-keys/{keyMappingId}/clean-up"),
             [&s, owned_key](http::Request& request) {
               auto [app, mapping, client] = owned_key(request, kScopeAppManage);
               s.applications.remove_key_mapping(mapping.id);
               s.km.clients().remove(client.client_id);
               s.publish(types::kKeyMappingDeleted, key_event(mapping));
               return http::Response::json(200, "");
             });

  router.add(
      "POST", app_path("/{applicationId}/oauth-keys/{keyMappingId}/generate-token"),
      [&s, owned_key](http::Request& request) {
        auto [app, mapping, client] = owned_key(request, kScopeAppManage);
        json::object body = json_body::parse_object(request.body);
        std::string secret = json_body::optional_string(body, "consumerSecret", 512).value_or("");
        if (auto grant = json_body::optional_string(body, "grantType", 64);
            grant && *grant != "CLIENT_CREDENTIALS") {
          throw ApiError::bad_request("Only the CLIENT_CREDENTIALS grantType is supported");
        }
        auto lifetime =
            json_body::optional_int(body, "validityPeriod", -1, keymanager::kMaxAccessTokenLifetime)
                .value_or(0);
        auto scopes = json_body::optional_string_array(body, "scopes", 50, 256)
                          .value_or(std::vector<std::string>{});
        auto revoke = json_body::optional_string(body, "revokeToken", 8192);
        std::string scope = checked_scopes(s, scopes);
        auto authenticated =
            s.km.clients().authenticate(client.client_id, secret, request.remote_address);
        if (!authenticated || secret.empty()) {
          throw ApiError::bad_request("Invalid consumer secret");
        }
        if (std::find(client.grant_types.begin(), client.grant_types.end(),
                      keymanager::kGrantClientCredentials) == client.grant_types.end()) {
          throw ApiError::bad_request("The keys do not support the client_credentials grant");
        }
        if (revoke && !revoke->empty()) s.km.tokens().revoke(*authenticated, *revoke);
        auto token = s.km.tokens().issue_for_client(*authenticated, scope,
                                                    std::max<std::int64_t>(lifetime, 0));
        return json_response(200, token_json(token));
      });

  // ---- API keys ----------------------------------------------------------------------------

  router.add(
      "POST", app_path("/{applicationId}/api-keys/{keyType}/generate"),
      [&s](http::Request& request) {
        auto caller = s.km.authorize(request, kScopeApiKey);
        auto app = s.owned_application(request.path_params["applicationId"], caller.username);
        std::string key_type = read_key_type(request.path_params["keyType"]);
        json::object body =
            request.body.empty() ? json::object{} : json_body::parse_object(request.body);
        auto validity =
            json_body::optional_int(body, "validityPeriod", -1, keymanager::kMaxAccessTokenLifetime)
                .value_or(-1);
        // The reference's -1 (never expires) is bounded: a revocation must expire some day.
        if (validity <= 0) validity = keymanager::kMaxAccessTokenLifetime;
        json::object claims;
        if (const json::object* extra = json_body::optional_object(body, "additionalProperties")) {
          if (auto ip = json_body::optional_string(*extra, "permittedIP", 1024)) {
            claims["permittedIP"] = *ip;
          }
          if (auto referer = json_body::optional_string(*extra, "permittedReferer", 1024)) {
            claims["permittedReferer"] = *referer;
          }
        }
        std::int64_t now = unix_now();
        json::array subscribed;
        json::object tier_info;
        for (const auto& sub : s.subscriptions.list({app.id, "", ""}, 1000, 0)) {
          auto api = s.catalog.find(sub.api_id);
          if (!api) continue;
          subscribed.emplace_back(json::object{{"name", api->name},
                                               {"context", api->context},
                                               {"version", api->version},
                                               {"publisher", api->provider},
                                               {"subscriptionTier", sub.throttling_policy},
                                               {"subscriberTenantDomain", "carbon.super"}});
          tier_info[sub.throttling_policy] =
              json::object{{"tierQuotaType", "requestCount"}, {"stopOnQuotaReach", true}};
        }
        std::string jti = crypto::uuid_v4();
        claims["iss"] = s.config.issuer();
        claims["sub"] = app.owner;
        claims["keytype"] = key_type;
        claims["token_type"] = "apiKey";
        claims["application"] = json::object{{"id", app.id},
                                             {"uuid", app.id},
                                             {"name", app.name},
                                             {"owner", app.owner},
                                             {"tier", app.throttling_policy},
                                             {"tierQuotaType", "requestCount"}};
        claims["tierInfo"] = tier_info;
        claims["subscribedAPIs"] = subscribed;
        claims["iat"] = now;
        claims["exp"] = now + validity;
        claims["jti"] = jti;
        std::string key = s.km.keys().active()->encode(json::serialize(claims));
        return json_response(200, json::object{{"keyName", app.name + "_" + key_type},
                                               {"apikey", key},
                                               {"validityTime", validity}});
      });

  router.add(
      "POST", app_path("/{applicationId}/api-keys/{keyType}/revoke"), [&s](http::Request& request) {
        auto caller = s.km.authorize(request, kScopeApiKey);
        auto app = s.owned_application(request.path_params["applicationId"], caller.username);
        std::string key_type = read_key_type(request.path_params["keyType"]);
        json::object body = json_body::parse_object(request.body);
        std::string key = json_body::required_string(body, "apikey", 16384);
        auto decoded = jwt::decode(key);
        auto verifier = decoded ? s.km.keys().find(decoded->kid) : nullptr;
        if (!decoded || !verifier || !jwt::verify_signature(*decoded, *verifier)) {
          throw ApiError::bad_request("'apikey' is not an API key issued by this node");
        }
        boost::system::error_code ec;
        json::value payload = json::parse(decoded->payload_json, ec);
        const json::object* claims = (!ec && payload.is_object()) ? &payload.as_object() : nullptr;
        const json::value* application = claims ? claims->if_contains("application") : nullptr;
        const json::value* uuid = application && application->is_object()
                                      ? application->as_object().if_contains("uuid")
                                      : nullptr;
        const json::value* jti = claims ? claims->if_contains("jti") : nullptr;
        const json::value* exp = claims ? claims->if_contains("exp") : nullptr;
        const json::value* type = claims ? claims->if_contains("keytype") : nullptr;
        if (!uuid || !uuid->is_string() || uuid->as_string() != app.id || !jti ||
            !jti->is_string() || !exp || !exp->is_int64() || !type || !type->is_string() ||
            type->as_string() != key_type) {
          throw ApiError::bad_request("'apikey' is not a " + key_type +
                                      " API key of this application");
        }
        std::string id(jti->as_string());
        s.tokens.revoke_jti(id, exp->as_int64(), unix_now());
        s.publish(
            types::kApiKeyRevoked,
            json::object{{"jti", id}, {"expires_at", exp->as_int64()}, {"application_id", app.id}});
        return http::Response::json(200, "");
      });
}

}  // namespace portico::devportal

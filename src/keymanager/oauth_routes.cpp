// /oauth2/token, /oauth2/revoke, /oauth2/introspect, /oauth2/jwks and the RFC 8414
// metadata document.
#include <boost/json.hpp>
#include <boost/url/pct_string_view.hpp>

#include "common/crypto.h"
#include "common/log.h"
#include "keymanager/oauth_error.h"
#include "keymanager/routes.h"
#include "keymanager/scopes.h"
#include "store/database.h"

namespace json = boost::json;

namespace portico::keymanager {
namespace {

http::Response no_store(http::Response response) {
  // RFC 6749 §5.1: responses carrying tokens or secrets must not be cached.
  response.headers.set("Cache-Control", "no-store");
  response.headers.set("Pragma", "no-cache");
  return response;
}

http::Response oauth_error_response(const OAuthError& e) {
  json::object body{{"error", e.error}, {"error_description", e.description}};
  auto response = no_store(http::Response::json(e.status, json::serialize(body)));
  if (e.status == 401) response.headers.set("WWW-Authenticate", "Basic realm=\"portico\"");
  return response;
}

std::optional<std::string> form_url_decode(std::string_view text) {
  auto pct = boost::urls::make_pct_string_view(text);
  if (!pct) return std::nullopt;
  std::string out = pct->decode();
  std::replace(out.begin(), out.end(), '+', ' ');
  return out;
}

// The form body of an OAuth endpoint; invalid_request unless it is urlencoded.
Form read_form(const http::Request& request) {
  auto type = request.headers.get("Content-Type").value_or("");
  auto semicolon = type.find(';');
  auto media = type.substr(0, semicolon);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media.size() != 33 ||
      !std::equal(media.begin(), media.end(), "application/x-www-form-urlencoded",
                  [](char a, char b) { return std::tolower(a) == b; }))
    throw OAuthError::invalid_request("the body must be application/x-www-form-urlencoded");
  auto form = http::parse_form(request.body);
  if (!form) throw OAuthError::invalid_request("the body is not valid form encoding");
  return *form;
}

// Every endpoint here answers errors in RFC 6749 §5.2 form, a database outage with 503.
http::Response guarded(const std::function<http::Response()>& body) {
  try {
    return body();
  } catch (const OAuthError& e) {
    return oauth_error_response(e);
  } catch (const store::UnavailableError& e) {
    spdlog::error("key manager storage unavailable: {}", e.what());
    json::object body{{"error", "temporarily_unavailable"},
                      {"error_description", "the authorization server's storage is unavailable"}};
    return no_store(http::Response::json(503, json::serialize(body)));
  }
}

std::string origin_of(const std::string& issuer) {
  auto scheme_end = issuer.find("://");
  if (scheme_end == std::string::npos) return issuer;
  auto path_start = issuer.find('/', scheme_end + 3);
  return path_start == std::string::npos ? issuer : issuer.substr(0, path_start);
}

std::string metadata_json(const KeyManager& km) {
  std::string issuer = km.config().issuer();
  std::string base = origin_of(issuer);
  json::object m;
  m["issuer"] = issuer;
  m["authorization_endpoint"] = base + "/oauth2/authorize";
  m["token_endpoint"] = base + "/oauth2/token";
  m["jwks_uri"] = base + "/oauth2/jwks";
  m["revocation_endpoint"] = base + "/oauth2/revoke";
  m["introspection_endpoint"] = base + "/oauth2/introspect";
  m["registration_endpoint"] = base + "/client-registration/v0.17/register";
  m["response_types_supported"] = json::array{"code"};
  m["grant_types_supported"] =
      json::array{"authorization_code", "client_credentials", "password", "refresh_token"};
  m["token_endpoint_auth_methods_supported"] =
      json::array{"client_secret_basic", "client_secret_post", "none"};
  m["revocation_endpoint_auth_methods_supported"] =
      json::array{"client_secret_basic", "client_secret_post", "none"};
  m["introspection_endpoint_auth_methods_supported"] = json::array{"client_secret_basic"};
  m["code_challenge_methods_supported"] = json::array{"S256"};
  m["token_endpoint_auth_signing_alg_values_supported"] =
      json::array{json::string(km.config().oauth.signing_algorithm)};
  json::array scopes{"default", "openid"};
  for (auto& s : scopes_for_roles({std::string(kRoleAdmin)})) scopes.emplace_back(s);
  m["scopes_supported"] = std::move(scopes);
  return json::serialize(m);
}

}  // namespace

std::optional<std::pair<std::string, std::string>> basic_credentials(const http::Request& request) {
  auto header = request.headers.get("Authorization");
  constexpr std::string_view kBasic = "Basic ";
  if (!header || header->size() < kBasic.size() ||
      !std::equal(kBasic.begin(), kBasic.end(), header->begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
    return std::nullopt;
  auto decoded = crypto::base64_decode(header->substr(kBasic.size()));
  if (!decoded) throw OAuthError::invalid_client("malformed Basic credentials");
  auto colon = decoded->find(':');
  if (colon == std::string::npos) throw OAuthError::invalid_client("malformed Basic credentials");
  auto id = form_url_decode(std::string_view(*decoded).substr(0, colon));
  auto secret = form_url_decode(std::string_view(*decoded).substr(colon + 1));
  if (!id || !secret) throw OAuthError::invalid_client("malformed Basic credentials");
  return std::pair{*id, *secret};
}

void add_oauth_routes(KeyManager& km, http::Router& router) {
  router.add("POST", "/oauth2/token", http::BodyType::form, [&km](http::Request& request) {
    return guarded([&] {
      auto form = read_form(request);
      auto basic = basic_credentials(request);
      auto issued = km.tokens().token(form, basic, request.remote_address);
      json::object body{{"access_token", issued.access_token},
                        {"token_type", "Bearer"},
                        {"expires_in", issued.expires_in},
                        {"scope", issued.scope}};
      if (!issued.refresh_token.empty()) body["refresh_token"] = issued.refresh_token;
      return no_store(http::Response::json(200, json::serialize(body)));
    });
  });

  router.add("POST", "/oauth2/revoke", http::BodyType::form, [&km](http::Request& request) {
    return guarded([&] {
      auto form = read_form(request);
      auto basic = basic_credentials(request);
      // Client authentication as at the token endpoint (RFC 7009 §2.1).
      auto client = km.tokens().authenticate_client(form, basic, request.remote_address);
      auto token = form.equal_range("token");
      if (token.first == token.second || token.first->second.empty())
        throw OAuthError::invalid_request("parameter 'token' is required");
      if (std::next(token.first) != token.second)
        throw OAuthError::invalid_request("parameter 'token' is repeated");
      km.tokens().revoke(client, token.first->second);
      return no_store(http::Response::json(200, ""));
    });
  });

  router.add("POST", "/oauth2/introspect", http::BodyType::form, [&km](http::Request& request) {
    return guarded([&] {
      // RFC 7662 §2.1: the caller must be authorized: a gateway with the shared
      // [internal_api] credential or a live one of its own (checked first: they cost no
      // argon2id), a registered confidential client, or an administrator. RFC 7662 §4: a
      // client learns only of its own tokens.
      std::optional<std::string> only_client;
      bool allowed = km.authenticate_gateway(request).has_value();
      if (!allowed) {
        auto basic = basic_credentials(request);
        if (!basic) throw OAuthError::invalid_client("client authentication is required");
        try {
          // A client id or a user name, never both tried: a failure counts against the
          // one account the caller named, not against a made-up "client" of that name.
          if (km.clients().find(basic->first)) {
            auto client =
                km.clients().authenticate(basic->first, basic->second, request.remote_address);
            allowed = client && !client->public_client;
            if (allowed) only_client = client->client_id;
          } else {
            auto user =
                km.users().authenticate(basic->first, basic->second, request.remote_address);
            allowed = user && std::find(user->roles.begin(), user->roles.end(), kRoleAdmin) !=
                                  user->roles.end();
          }
        } catch (const AccountLocked& e) {
          throw OAuthError::invalid_client(e.description);
        }
      }
      if (!allowed) throw OAuthError::invalid_client("client authentication failed");
      auto form = read_form(request);
      auto token = form.equal_range("token");
      if (token.first == token.second || token.first->second.empty())
        throw OAuthError::invalid_request("parameter 'token' is required");
      return no_store(
          http::Response::json(200, km.tokens().introspect(token.first->second, only_client)));
    });
  });

  router.add("GET", "/oauth2/jwks", [&km](http::Request&) {
    auto response = http::Response::json(200, *km.keys().jwks_json());
    response.headers.set("Cache-Control", "public, max-age=300");
    return response;
  });

  auto metadata = [&km](http::Request&) { return http::Response::json(200, metadata_json(km)); };
  router.add("GET", "/.well-known/oauth-authorization-server", metadata);
  // RFC 8414 §3: for an issuer with a path, the path follows the well-known suffix.
  router.add("GET", "/.well-known/oauth-authorization-server/oauth2/token", metadata);
}

}  // namespace portico::keymanager

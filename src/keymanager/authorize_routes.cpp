// /oauth2/authorize: the authorization-code flow's front channel (RFC 6749 §4.1, PKCE per
// RFC 7636, S256 only as RFC 9700 §2.1.1 recommends) with a minimal login page.
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "common/crypto.h"
#include "keymanager/oauth_error.h"
#include "keymanager/routes.h"
#include "keymanager/scopes.h"

namespace portico::keymanager {
namespace {

constexpr std::size_t kChallengeLength = 43;  // base64url of a SHA-256 digest

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The parameters of an authorization request, after the checks that decide whether it
// is safe to redirect back to the client at all.
struct AuthorizationRequest {
  store::ClientRecord client;
  std::string redirect_uri;        // where to send the user back
  bool redirect_uri_sent = false;  // whether the request named it (RFC 6749 §4.1.3)
  std::string response_type;
  std::string scope;
  std::string state;
  std::string code_challenge;
  std::string code_challenge_method;
};

// Errors that may be sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
struct RedirectError {
  std::string error;
  std::string description;
};

std::string one(const std::multimap<std::string, std::string>& params, const std::string& name) {
  auto [first, last] = params.equal_range(name);
  if (first == last) return {};
  if (std::next(first) != last)
    throw OAuthError::invalid_request("parameter '" + name + "' is repeated");
  return first->second;
}

http::Response error_page(int status, const std::string& message) {
  return http::Response::html(
      status,
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>Portico - "
      "authorization error</title></head><body><h1>Authorization error</h1><p>" +
          html_escape(message) + "</p></body></html>");
}

http::Response redirect(const std::string& uri,
                        const std::vector<std::pair<std::string, std::string>>& params) {
  boost::urls::url target(uri);
  for (auto& [k, v] : params)
    if (!v.empty()) target.params().append({k, v});
  http::Response response;
  response.status = 302;
  response.headers.set("Location", std::string(target.buffer()));
  response.headers.set("Cache-Control", "no-store");
  return response;
}

// Checks client and redirect URI first: when either is wrong the user sees an error page
// and is never sent to an unverified URI (RFC 6749 §4.1.2.1).
AuthorizationRequest read_request(KeyManager& km,
                                  const std::multimap<std::string, std::string>& params) {
  AuthorizationRequest r;
  auto client_id = one(params, "client_id");
  if (client_id.empty()) throw OAuthError::invalid_request("client_id is required");
  auto client = km.clients().find(client_id);
  if (!client) throw OAuthError::invalid_request("unknown client_id");
  r.client = *client;
  r.redirect_uri = one(params, "redirect_uri");
  r.redirect_uri_sent = !r.redirect_uri.empty();
  auto& registered = r.client.redirect_uris;
  if (r.redirect_uri.empty()) {
    if (registered.size() != 1)
      throw OAuthError::invalid_request("redirect_uri is required for this client");
    r.redirect_uri = registered.front();
  } else if (std::find(registered.begin(), registered.end(), r.redirect_uri) == registered.end()) {
    // Exact string match, no pattern or prefix (RFC 9700 §4.1.3).
    throw OAuthError::invalid_request("redirect_uri is not registered for this client");
  }
  r.response_type = one(params, "response_type");
  r.scope = one(params, "scope");
  r.state = one(params, "state");
  r.code_challenge = one(params, "code_challenge");
  r.code_challenge_method = one(params, "code_challenge_method");
  return r;
}

std::optional<RedirectError> check_request(const AuthorizationRequest& r) {
  if (r.response_type != "code")
    return RedirectError{"unsupported_response_type", "only response_type=code is supported"};
  auto& grants = r.client.grant_types;
  if (std::find(grants.begin(), grants.end(), kGrantAuthorizationCode) == grants.end())
    return RedirectError{"unauthorized_client",
                         "the client may not use the authorization_code grant"};
  if (r.code_challenge.empty()) {
    if (r.client.public_client)
      return RedirectError{"invalid_request", "public clients must use PKCE (code_challenge)"};
    if (!r.code_challenge_method.empty())
      return RedirectError{"invalid_request", "code_challenge_method without code_challenge"};
  } else {
    if (r.code_challenge_method != "S256")
      return RedirectError{"invalid_request", "code_challenge_method must be S256"};
    auto decoded = crypto::base64url_decode(r.code_challenge);
    if (r.code_challenge.size() != kChallengeLength || !decoded || decoded->size() != 32)
      return RedirectError{"invalid_request", "code_challenge is not a base64url SHA-256"};
  }
  return std::nullopt;
}

// What the user is asked to allow: the client's name alone is whatever its registrant chose,
// so the page also shows the scopes asked for and where the user will be sent.
std::string consent_html(const AuthorizationRequest& r) {
  std::string scopes;
  bool asks_rest_scopes = false;
  for (auto& scope : split_scopes(r.scope)) {
    scopes += "<li><code>" + html_escape(scope) + "</code></li>";
    asks_rest_scopes = asks_rest_scopes || is_rest_api_scope(scope);
  }
  if (scopes.empty()) scopes = "<li><code>default</code> (no particular permission)</li>";
  std::string host = r.redirect_uri;
  if (auto uri = boost::urls::parse_absolute_uri(r.redirect_uri); uri && uri->has_authority())
    host = std::string(uri->encoded_host_and_port());
  std::string out = "<p><strong>" + html_escape(r.client.name) +
                    "</strong> asks to access your account with these scopes:</p>"
                    "<ul class=\"scopes\">" +
                    scopes +
                    "</ul><p>After you sign in you will be sent to <strong class=\"host\">" +
                    html_escape(host) + "</strong>.</p>";
  if (asks_rest_scopes && !r.client.trusted)
    out +=
        "<p class=\"untrusted\">An administrator has not marked this application as trusted: "
        "it will not receive the Portico REST API scopes (<code>apim:*</code>) it asks "
        "for.</p>";
  return out;
}

http::Response login_page(const AuthorizationRequest& r, const std::string& problem) {
  std::string hidden;
  auto field = [&](const char* name, const std::string& value) {
    if (!value.empty())
      hidden += std::string("<input type=\"hidden\" name=\"") + name + "\" value=\"" +
                html_escape(value) + "\">";
  };
  field("response_type", r.response_type);
  field("client_id", r.client.client_id);
  if (r.redirect_uri_sent) field("redirect_uri", r.redirect_uri);
  field("scope", r.scope);
  field("state", r.state);
  field("code_challenge", r.code_challenge);
  field("code_challenge_method", r.code_challenge_method);
  std::string notice =
      problem.empty() ? "" : "<p class=\"problem\" role=\"alert\">" + html_escape(problem) + "</p>";
  auto response = http::Response::html(
      problem.empty() ? 200 : 401,
      "<!doctype html><html><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width\"><title>Portico - sign in</title>"
      "<style>body{font-family:sans-serif;max-width:22rem;margin:4rem auto}"
      "label,input{display:block;width:100%;margin:.3rem 0}"
      ".problem{color:#b00020}</style></head><body>"
      "<h1>Sign in</h1>" +
          consent_html(r) + notice + "<form method=\"post\" action=\"/oauth2/authorize\">" +
          hidden +
          "<label for=\"username\">Username</label>"
          "<input id=\"username\" name=\"username\" autocomplete=\"username\" required>"
          "<label for=\"password\">Password</label>"
          "<input id=\"password\" name=\"password\" type=\"password\" "
          "autocomplete=\"current-password\" required>"
          "<button type=\"submit\">Sign in and allow</button></form></body></html>");
  // The login form must not be framed by another site (clickjacking).
  response.headers.set("X-Frame-Options", "DENY");
  response.headers.set("Content-Security-Policy", "frame-ancestors 'none'");
  response.headers.set("Cache-Control", "no-store");
  return response;
}

http::Response handle(KeyManager& km, const std::multimap<std::string, std::string>& params,
                      bool submitted, std::string_view source) {
  AuthorizationRequest r;
  try {
    r = read_request(km, params);
  } catch (const OAuthError& e) {
    return error_page(400, e.description);
  }
  std::vector<std::pair<std::string, std::string>> back{{"state", r.state}};
  try {
    if (auto problem = check_request(r)) {
      back.insert(back.begin(),
                  {{"error", problem->error}, {"error_description", problem->description}});
      return redirect(r.redirect_uri, back);
    }
    if (!submitted) return login_page(r, "");
    std::optional<store::UserRecord> user;
    try {
      user = km.users().authenticate(one(params, "username"), one(params, "password"), source);
    } catch (const AccountLocked& e) {
      return login_page(r, e.description);
    }
    if (!user) return login_page(r, "The username or password is not valid.");
    auto code = km.tokens().create_authorization_code(
        r.client, *user, r.redirect_uri_sent ? r.redirect_uri : "", r.scope, r.code_challenge);
    back.insert(back.begin(), {"code", code});
    return redirect(r.redirect_uri, back);
  } catch (const OAuthError& e) {
    back.insert(back.begin(), {{"error", e.error}, {"error_description", e.description}});
    return redirect(r.redirect_uri, back);
  }
}

}  // namespace

void add_authorize_routes(KeyManager& km, http::Router& router) {
  router.add("GET", "/oauth2/authorize", [&km](http::Request& request) {
    return handle(km, request.query, false, request.remote_address);
  });
  router.add("POST", "/oauth2/authorize", http::BodyType::form, [&km](http::Request& request) {
    auto form = http::parse_form(request.body);
    if (!form) return error_page(400, "The form is not valid form encoding.");
    return handle(km, *form, true, request.remote_address);
  });
}

}  // namespace portico::keymanager

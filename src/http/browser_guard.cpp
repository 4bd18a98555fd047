#include "http/browser_guard.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace portico::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_state_changing(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

bool has_json_body(const Request& request) {
  auto type = request.headers.get("Content-Type");
  return !request.body.empty() && type && is_json_media_type(*type);
}

struct Authority {
  std::string host;
  std::string port;  // empty: none given
};

// "host", "host:port", "[v6]", "[v6]:port"; nullopt when malformed.
std::optional<Authority> split_authority(std::string_view text) {
  Authority a;
  if (text.empty()) return std::nullopt;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    a.host = lower(text.substr(0, close + 1));
    text.remove_prefix(close + 1);
    if (text.empty()) return a;
    if (text.front() != ':') return std::nullopt;
    a.port = std::string(text.substr(1));
  } else {
    auto colon = text.rfind(':');
    a.host = lower(text.substr(0, colon));
    if (colon != std::string_view::npos) a.port = std::string(text.substr(colon + 1));
  }
  if (a.host.empty()) return std::nullopt;
  if (!std::all_of(a.port.begin(), a.port.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  return a;
}

// Splits a WWW-Authenticate value into its challenges: a challenge starts with a scheme
// token followed by a space or the end; commas inside quoted strings do not split.
std::vector<std::string_view> challenges(std::string_view value) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i < value.size() && value[i] == '"' && (i == 0 || value[i - 1] != '\\')) quoted = !quoted;
    if (i == value.size() || (value[i] == ',' && !quoted)) {
      parts.push_back(trim(value.substr(start, i - start)));
      start = i + 1;
    }
  }
  std::vector<std::string_view> result;
  for (auto part : parts) {
    if (part.empty()) continue;
    auto space = part.find(' ');
    auto equals = part.find('=');
    bool starts_challenge = equals == std::string_view::npos || space < equals;
    if (starts_challenge || result.empty()) {
      result.push_back(part);
    } else {
      // An auth-param of the current challenge: widen it to include this part.
      std::string_view& last = result.back();
      last = std::string_view(last.data(),
                              static_cast<std::size_t>(part.data() + part.size() - last.data()));
    }
  }
  return result;
}

}  // namespace

bool is_json_media_type(std::string_view content_type) {
  std::string media = lower(trim(content_type.substr(0, content_type.find(';'))));
  if (media == "application/json") return true;
  return media.starts_with("application/") && media.ends_with("+json");
}

bool is_same_origin(std::string_view origin, std::string_view host) {
  // RFC 6454 serialised origin: scheme "://" host [ ":" port ], nothing else.
  auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return false;  // "null" included
  std::string scheme = lower(origin.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return false;
  auto origin_authority = split_authority(origin.substr(scheme_end + 3));
  auto host_authority = split_authority(trim(host));
  if (!origin_authority || !host_authority) return false;
  // Host omits the port when it is the default of the scheme the browser used, which for a
  // same-origin request is the Origin's scheme.
  const std::string default_port = scheme == "https" ? "443" : "80";
  auto port = [&](const Authority& a) { return a.port.empty() ? default_port : a.port; };
  return origin_authority->host == host_authority->host &&
         port(*origin_authority) == port(*host_authority);
}

std::string without_basic_challenge(std::string_view www_authenticate) {
  std::string out;
  for (auto challenge : challenges(www_authenticate)) {
    auto scheme = lower(challenge.substr(0, challenge.find(' ')));
    if (scheme == "basic") continue;
    if (!out.empty()) out += ", ";
    out += challenge;
  }
  return out;
}

std::optional<Response> refuse_body_media_type(const Request& request, BodyType body_type) {
  // Form and multipart routes check their own media type (OAuth 2.0 answers it its way).
  if (body_type != BodyType::json || request.body.empty()) return std::nullopt;
  if (request.method == "GET" || request.method == "HEAD") return std::nullopt;
  auto type = request.headers.get("Content-Type");
  if (type && is_json_media_type(*type)) return std::nullopt;
  std::string got = type ? "'" + std::string(*type) + "'" : "no Content-Type";
  if (got.size() > 80) got = got.substr(0, 77) + "...";
  return Response::error(415, 415, "Unsupported Media Type",
                         "This resource takes an application/json body; the request has " + got);
}

std::optional<Response> refuse_cross_site_request(const Request& request) {
  if (!is_state_changing(request.method) || has_json_body(request)) return std::nullopt;
  auto origin = request.headers.get("Origin");
  if (!origin) return std::nullopt;
  auto host = request.headers.get("Host");
  if (host && is_same_origin(*origin, *host)) return std::nullopt;
  return Response::error(403, 403, "Forbidden",
                         "Cross-site request refused: its Origin is not this node's origin");
}

void hide_basic_challenge_from_browsers(const Request& request, Response& response) {
  if (response.status != 401) return;
  if (!request.headers.get("Sec-Fetch-Mode") && !request.headers.get("Origin")) return;
  auto challenge = response.headers.get("WWW-Authenticate");
  if (!challenge) return;
  std::string kept = without_basic_challenge(*challenge);
  if (kept.empty()) {
    response.headers.remove("WWW-Authenticate");
  } else {
    response.headers.set("WWW-Authenticate", std::move(kept));
  }
}

}  // namespace portico::http

#include <boost/url/pct_string_view.hpp>

#include <algorithm>
#include <stdexcept>

#include "common/api_error.h"
#include "common/log.h"
#include "http/browser_guard.h"
#include "http/message.h"

namespace portico::http {

namespace {

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// "/a/b" → {"a", "b"}; "/" → {""}; a trailing slash is a segment of its own, so
// "/apis/" does not match "/apis" (the reference treats them as different resources too).
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

// The still-encoded path of the request-target. Splitting must happen before decoding, or an
// encoded "/" inside a parameter ("%2F") would split it in two.
std::optional<std::string_view> encoded_path(std::string_view target) {
  if (target.empty()) return std::nullopt;
  if (target.front() != '/') {
    // absolute-form: skip "scheme://authority"
    auto scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return std::nullopt;
    auto slash = target.find_first_of("/?", scheme_end + 3);
    if (slash == std::string_view::npos || target[slash] == '?') return "/";
    target.remove_prefix(slash);
  }
  return target.substr(0, target.find('?'));
}

// Decoded request segments; nullopt when the path holds malformed percent-encoding.
std::optional<std::vector<std::string>> request_segments(const Request& request) {
  std::vector<std::string> result;
  auto raw = encoded_path(request.target);
  if (!raw) {
    // Built without a target (handler tests, internal calls): `path` is already decoded.
    for (auto segment : split_path(request.path)) result.emplace_back(segment);
    return result;
  }
  for (auto segment : split_path(*raw)) {
    auto validated = boost::urls::make_pct_string_view(segment);
    if (!validated) return std::nullopt;
    result.push_back(validated->decode());
  }
  return result;
}

}  // namespace

void Router::add(std::string method, std::string path_template, Handler handler) {
  add(std::move(method), std::move(path_template), BodyType::json, std::move(handler));
}

void Router::add(std::string method, std::string path_template, BodyType body, Handler handler) {
  if (method.empty() || path_template.empty() || path_template.front() != '/') {
    throw std::invalid_argument("route " + method + " " + path_template +
                                ": expected a method and a path starting with '/'");
  }
  Route route{std::move(method), {}, std::move(handler), body};
  for (auto segment : split_path(path_template)) {
    if (segment.find_first_of("{}") != std::string_view::npos && !is_param(segment)) {
      throw std::invalid_argument("route " + route.method + " " + path_template +
                                  ": a parameter must be a whole segment like {name}");
    }
    route.segments.emplace_back(segment);
  }
  for (const auto& existing : routes_) {
    bool same_shape =
        existing.method == route.method && existing.segments.size() == route.segments.size() &&
        std::equal(existing.segments.begin(), existing.segments.end(), route.segments.begin(),
                   [](const auto& a, const auto& b) { return is_param(a) ? is_param(b) : a == b; });
    if (same_shape) {
      throw std::invalid_argument("route " + route.method + " " + path_template +
                                  " is already registered");
    }
  }
  routes_.push_back(std::move(route));
}

Response Router::dispatch(Request& request) const {
  auto segments = request_segments(request);
  if (!segments) {
    return Response::error(400, 400, "Bad Request", "Malformed percent-encoding in the path");
  }

  struct Match {
    const Route* route;
    std::map<std::string, std::string> params;
  };
  std::vector<Match> matches;
  for (const auto& route : routes_) {
    if (route.segments.size() != segments->size()) continue;
    Match match{&route, {}};
    bool ok = true;
    for (std::size_t i = 0; ok && i < segments->size(); ++i) {
      const std::string& pattern = route.segments[i];
      const std::string& actual = (*segments)[i];
      if (is_param(pattern)) {
        ok = !actual.empty();
        if (ok) match.params[pattern.substr(1, pattern.size() - 2)] = actual;
      } else {
        ok = pattern == actual;
      }
    }
    if (ok) matches.push_back(std::move(match));
  }
  if (matches.empty()) {
    return Response::error(404, 404, "Not Found", "No resource matches the request path");
  }

  // Among routes of the method, the first literal segment where two differ decides:
  // "/apis/search" beats "/apis/{apiId}" whatever the order of registration.
  auto more_specific = [](const Match& a, const Match& b) {
    for (std::size_t i = 0; i < a.route->segments.size(); ++i) {
      bool a_param = is_param(a.route->segments[i]);
      bool b_param = is_param(b.route->segments[i]);
      if (a_param != b_param) return !a_param;
    }
    return false;
  };
  auto best_for = [&](std::string_view method) -> Match* {
    Match* best = nullptr;
    for (auto& match : matches) {
      if (match.route->method != method) continue;
      if (best == nullptr || more_specific(match, *best)) best = &match;
    }
    return best;
  };
  Match* best = best_for(request.method);
  // HEAD is GET without the body; the server drops the body.
  if (best == nullptr && request.method == "HEAD") best = best_for("GET");

  if (best == nullptr) {
    std::vector<std::string_view> allowed;
    for (const auto& match : matches) {
      if (std::find(allowed.begin(), allowed.end(), match.route->method) == allowed.end()) {
        allowed.push_back(match.route->method);
      }
    }
    if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end() &&
        std::find(allowed.begin(), allowed.end(), "HEAD") == allowed.end()) {
      allowed.push_back("HEAD");
    }
    std::string allow;
    for (auto method : allowed) {
      if (!allow.empty()) allow += ", ";
      allow += method;
    }
    Response response = Response::error(
        405, 405, "Method Not Allowed",
        "Method " + request.method + " is not allowed on this resource; allowed: " + allow);
    response.headers.set("Allow", std::move(allow));
    return response;
  }

  request.path_params = std::move(best->params);
  if (auto refused = refuse_body_media_type(request, best->route->body)) return *refused;
  if (auto refused = refuse_cross_site_request(request)) return *refused;
  Response response = invoke(*best->route, request);
  hide_basic_challenge_from_browsers(request, response);
  return response;
}

Response Router::invoke(const Route& route, Request& request) const {
  try {
    return route.handler(request);
  } catch (const ApiError& e) {
    Response response = Response::error(e.status, e.code, e.message, e.description);
    for (const auto& [name, value] : e.headers) response.headers.set(name, value);
    return response;
  } catch (const std::exception& e) {
    spdlog::error("{} {}: unhandled exception: {}", request.method, request.path, e.what());
  } catch (...) {
    spdlog::error("{} {}: unhandled exception of unknown type", request.method, request.path);
  }
  return Response::error(500, 500, "Internal Server Error",
                         "The server could not complete the request");
}

}  // namespace portico::http

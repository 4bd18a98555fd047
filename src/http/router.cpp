#include <boost/url/pct_string_view.hpp>

#include <algorithm>
#include <future>
#include <stdexcept>

#include "common/api_error.h"
#include "common/bounded_pool.h"
#include "common/log.h"
#include "http/browser_guard.h"
#include "http/message.h"

namespace portico::http {

// What a handler asked offload() to run, thrown out of the handler to the Router. Deliberately
// not a std::exception: handlers' catch-alls for errors must let it through.
struct Router::Suspension {
  BoundedPool* pool = nullptr;
  std::string key;
  std::function<std::string()> work;
};

namespace {

// A handler offloading more often than this in one request is looping, not hashing (the count
// includes first_time() marks, a few per request).
constexpr std::size_t kMaxOffloadsPerRequest = 16;

// The request whose handler runs on this thread, so that offload() deep in a component finds
// it without every signature on the way carrying it.
struct HandlerScope {
  Request* request;
  bool may_suspend;
};
thread_local HandlerScope* current_scope = nullptr;

class ScopeGuard {
 public:
  ScopeGuard(Request& request, bool may_suspend)
      : scope_{&request, may_suspend}, previous_(current_scope) {
    current_scope = &scope_;
  }
  ~ScopeGuard() { current_scope = previous_; }
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 private:
  HandlerScope scope_;
  HandlerScope* previous_;
};

ApiError pool_busy() {
  ApiError e(503, 503, "Service Unavailable",
             "Too many password checks are waiting; try again shortly");
  e.headers["Retry-After"] = "1";
  return e;
}

Response error_response(const ApiError& e) {
  Response response = Response::error(e.status, e.code, e.message, e.description);
  for (const auto& [name, value] : e.headers) response.headers.set(name, value);
  return response;
}

Response internal_error() {
  return Response::error(500, 500, "Internal Server Error",
                         "The server could not complete the request");
}

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

std::string offload(BoundedPool& pool, const std::string& key, std::function<std::string()> work) {
  HandlerScope* scope = current_scope;
  if (scope != nullptr) {
    auto done = scope->request->offloaded.find(key);
    if (done != scope->request->offloaded.end()) return done->second;
    if (scope->may_suspend) throw Router::Suspension{&pool, key, std::move(work)};
  }
  auto task = std::make_shared<std::packaged_task<std::string()>>(std::move(work));
  auto result = task->get_future();
  if (!pool.try_post([task] { (*task)(); })) throw pool_busy();
  return result.get();
}

bool first_time(const std::string& key) {
  HandlerScope* scope = current_scope;
  if (scope == nullptr) return true;
  return scope->request->offloaded.emplace("first-time:" + key, std::string()).second;
}

Response Router::dispatch(Request& request) const {
  return *run(request, false, nullptr);
}

void Router::dispatch_async(std::shared_ptr<Request> request, Post post,
                            std::function<void(Response)> done) const {
  Suspension suspended;
  if (auto response = run(*request, true, &suspended)) return done(std::move(*response));
  if (request->offloaded.size() >= kMaxOffloadsPerRequest) {
    spdlog::error("{} {}: the handler offloaded work {} times", request->method, request->path,
                  request->offloaded.size());
    return done(internal_error());
  }
  auto resume = [this, request, post, done, key = std::move(suspended.key),
                 work = std::move(suspended.work)]() mutable {
    std::optional<std::string> result;
    try {
      result = work();
    } catch (const std::exception& e) {
      spdlog::error("{} {}: offloaded work failed: {}", request->method, request->path, e.what());
    } catch (...) {
      spdlog::error("{} {}: offloaded work failed", request->method, request->path);
    }
    // Back on the request's own thread: the handler runs again there, never on the pool.
    auto again = [this, request, post, done, key = std::move(key),
                  result = std::move(result)]() mutable {
      if (!result) return done(internal_error());
      request->offloaded[key] = std::move(*result);
      dispatch_async(std::move(request), std::move(post), std::move(done));
    };
    post(std::move(again));
  };
  if (!suspended.pool->try_post(std::move(resume))) done(error_response(pool_busy()));
}

std::optional<Response> Router::run(Request& request, bool may_suspend,
                                    Suspension* suspended) const {
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
  ScopeGuard scope(request, may_suspend);
  auto response = invoke(*best->route, request, suspended);
  if (response) hide_basic_challenge_from_browsers(request, *response);
  return response;
}

std::optional<Response> Router::invoke(const Route& route, Request& request,
                                       Suspension* suspended) const {
  try {
    return route.handler(request);
  } catch (Suspension& s) {
    *suspended = std::move(s);
    return std::nullopt;
  } catch (const ApiError& e) {
    return error_response(e);
  } catch (const std::exception& e) {
    spdlog::error("{} {}: unhandled exception: {}", request.method, request.path, e.what());
  } catch (...) {
    spdlog::error("{} {}: unhandled exception of unknown type", request.method, request.path);
  }
  return internal_error();
}

}  // namespace portico::http

#include "gateway/filter_cors.h"

#include "gateway/filter_common.h"
#include "gateway/filter_route.h"

namespace portico::gateway {
namespace {

bool allows_any_origin(const Cors& cors) {
  for (const auto& o : cors.allow_origins) {
    if (o == "*") return true;
  }
  return false;
}

// The configured methods the path has a resource for, in the configured order: a preflight
// learns what it may call here, not every method the API allows somewhere.
std::string preflight_methods(const Cors& cors, std::string_view path_methods) {
  if (cors.allow_methods.empty()) return std::string(path_methods);
  std::string out;
  any_of_list(cors.allow_methods, [&](std::string_view method) {
    bool offered =
        any_of_list(path_methods, [&](std::string_view m) { return iequals(m, method); });
    if (offered) {
      if (!out.empty()) out += ", ";
      out += method;
    }
    return false;
  });
  return out;
}

}  // namespace

bool cors_origin_allowed(const Cors& cors, std::string_view origin) {
  for (const auto& allowed : cors.allow_origins) {
    if (allowed == "*" || iequals(allowed, origin)) return true;
    if (allowed.find('*') != std::string::npos && glob_match(allowed, origin, '/', true))
      return true;
  }
  return false;
}

FilterStatus CorsFilter::on_request(RequestContext& ctx, const std::function<void()>&) {
  const Api* api = ctx.route.api;
  if (api == nullptr || !api->cors.enabled) return FilterStatus::kContinue;
  auto origin = request_header(ctx, "Origin");
  if (!origin) return FilterStatus::kContinue;
  const Cors& cors = api->cors;
  bool allowed = cors_origin_allowed(cors, *origin);
  // "*" cannot go with credentials (browsers refuse the pair): the origin is echoed then.
  bool wildcard = allowed && allows_any_origin(cors) && !cors.allow_credentials;
  std::string_view allow_origin = wildcard ? std::string_view("*") : *origin;

  // An API that defines OPTIONS for the path answers preflights itself, as in the reference:
  // its backend's CORS headers go back untouched.
  if (ctx.method == "OPTIONS" && ctx.route.status == RouteMatch::Status::kMatched)
    return FilterStatus::kContinue;
  if (ctx.route.status == RouteMatch::Status::kOptions && is_cors_preflight(ctx)) {
    ctx.reply = LocalReply{};
    ctx.reply.status = 200;
    ctx.reply.is_error = false;
    auto& headers = ctx.reply.headers;
    if (allowed) {
      headers.emplace_back("Access-Control-Allow-Origin", allow_origin);
      headers.emplace_back("Access-Control-Allow-Methods",
                           preflight_methods(cors, ctx.route.allowed_methods));
      std::string_view allow_headers = cors.allow_headers;
      if (trim(allow_headers) == "*") {
        // As the reference: "*" echoes what the browser asked for, which also works where a
        // literal "*" does not (requests with credentials).
        allow_headers = request_header(ctx, "Access-Control-Request-Headers").value_or("");
      }
      if (!allow_headers.empty())
        headers.emplace_back("Access-Control-Allow-Headers", allow_headers);
      if (cors.allow_credentials) headers.emplace_back("Access-Control-Allow-Credentials", "true");
    }
    if (!wildcard) headers.emplace_back("Vary", "Origin");
    return FilterStatus::kReply;
  }

  if (allowed) {
    set_header(ctx.response_edits, "Access-Control-Allow-Origin", allow_origin);
    if (cors.allow_credentials)
      set_header(ctx.response_edits, "Access-Control-Allow-Credentials", "true");
  }
  // Appended, not set: the backend's own Vary stays.
  if (!wildcard) ctx.response_edits.push_back(HeaderEdit{false, "Vary", "Origin"});
  return FilterStatus::kContinue;
}

}  // namespace portico::gateway

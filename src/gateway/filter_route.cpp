#include "gateway/filter_route.h"

#include "gateway/filter_common.h"

namespace portico::gateway {

bool is_cors_preflight(const RequestContext& ctx) {
  return ctx.method == "OPTIONS" && request_header(ctx, "Origin") &&
         request_header(ctx, "Access-Control-Request-Method");
}

FilterStatus RouteFilter::on_request(RequestContext& ctx, const std::function<void()>&) {
  ctx.route = match_route(*ctx.snapshot, ctx.method, ctx.path);
  const Api* api = ctx.route.api;
  if (ctx.route.status == RouteMatch::Status::kNoApi || api == nullptr ||
      api->lifecycle == "RETIRED") {
    // A retired API is gone for its callers, whatever is still deployed.
    return reply_error(ctx, 404, errors::kNotFound, errors::kNotFoundMessage,
                       errors::kNoApiDescription, error_type::kOther);
  }
  // Before the resource: a blocked API answers 700700 on every path under it.
  if (api->lifecycle == "BLOCKED") {
    return reply_error(ctx, 503, errors::kApiBlocked, errors::kApiBlockedMessage,
                       errors::kApiBlockedDescription, error_type::kOther);
  }
  switch (ctx.route.status) {
    case RouteMatch::Status::kMatched:
      return FilterStatus::kContinue;
    case RouteMatch::Status::kNoResource:
      return reply_error(ctx, 403, errors::kNoResource, errors::kNoResourceMessage,
                         errors::kNoResourceDescription, error_type::kOther);
    case RouteMatch::Status::kOptions:
      if (api->cors.enabled && is_cors_preflight(ctx)) return FilterStatus::kContinue;
      ctx.reply = LocalReply{};
      ctx.reply.status = 200;
      ctx.reply.is_error = false;
      ctx.reply.headers.emplace_back("Allow", ctx.route.allowed_methods);
      return FilterStatus::kReply;
    case RouteMatch::Status::kNoApi:
      break;
  }
  return reply_error(ctx, 404, errors::kNotFound, errors::kNotFoundMessage,
                     errors::kNoApiDescription, error_type::kOther);
}

}  // namespace portico::gateway

#include "gateway/filter_subscription.h"

#include "gateway/filter_auth.h"
#include "gateway/filter_common.h"
#include "gateway/filter_lookup.h"

namespace portico::gateway {
namespace {

FilterStatus forbidden(RequestContext& ctx, std::string_view description) {
  return reply_error(ctx, 403, errors::kForbidden, errors::kForbiddenMessage, description,
                     error_type::kAuth);
}

FilterStatus unauthorized(RequestContext& ctx, long code, std::string_view message) {
  reply_error(ctx, 401, code, message, errors::kSubscriptionFailedDescription, error_type::kAuth);
  ctx.reply.headers.emplace_back("WWW-Authenticate", challenge_for(*ctx.principal));
  return FilterStatus::kReply;
}

FilterStatus invalid_scope(RequestContext& ctx) {
  return reply_error(ctx, 403, errors::kInvalidScope, errors::kInvalidScopeMessage,
                     errors::kInvalidScopeDescription, error_type::kAuth);
}

bool token_has_scope(const Principal& principal, const Resource& resource) {
  for (const auto& wanted : resource.scopes) {
    for (const auto& held : principal.scopes) {
      if (held == wanted) return true;
    }
  }
  return false;
}

bool user_holds_scope(const Principal& principal, const Api& api, const Resource& resource) {
  for (const auto& scope : resource.scopes) {
    auto bound = api.scope_roles.find(scope);
    // A scope the API does not list is nobody's: refusing keeps a snapshot that lost its
    // bindings from opening every scoped resource to every user.
    if (bound == api.scope_roles.end()) continue;
    if (bound->second.empty()) return true;
    for (const auto& role : bound->second) {
      for (const auto& held : principal.roles) {
        // Role names compare as the user store does: without regard to case.
        if (iequals(held, role)) return true;
      }
    }
  }
  return false;
}

}  // namespace

FilterStatus SubscriptionFilter::on_request(RequestContext& ctx,
                                            const std::function<void()>& resume) {
  const Principal* principal = ctx.principal.get();
  const Api* api = ctx.route.api;
  const Resource* resource = ctx.route.resource;
  if (principal == nullptr || api == nullptr || resource == nullptr)
    return FilterStatus::kContinue;  // anonymous

  if (principal->kind == Principal::Kind::kBasic) {
    if (!resource->scopes.empty() && !user_holds_scope(*principal, *api, *resource))
      return invalid_scope(ctx);
    return FilterStatus::kContinue;
  }

  const Application* application = ctx.application;
  if (application == nullptr) return forbidden(ctx, errors::kSubscriptionFailedDescription);
  // The reference refuses keys to applications awaiting approval; checking here also covers
  // an application whose approval went away after its keys were made.
  if (application->status != "APPROVED")
    return forbidden(ctx, errors::kApplicationNotApprovedDescription);

  const Subscription* subscription = find_subscription(ctx, application->id, api->id);
  if (subscription == nullptr) {
    // Subscribed a moment ago: the control plane knows it before this snapshot.
    if (ask_for_application(ctx, miss_lookup_, application->id, api->id, resume))
      return FilterStatus::kPause;
    return forbidden(ctx, errors::kSubscriptionFailedDescription);
  }
  const std::string& status = subscription->status;
  if (status == "BLOCKED" || (status == "PROD_ONLY_BLOCKED" && ctx.key_type != "SANDBOX"))
    return unauthorized(ctx, errors::kSubscriptionBlocked, errors::kSubscriptionBlockedMessage);
  if (status == "ON_HOLD" || status == "REJECTED")
    return unauthorized(ctx, errors::kSubscriptionInactive, errors::kSubscriptionInactiveMessage);
  ctx.subscription = subscription;

  if (!resource->scopes.empty() && principal->kind != Principal::Kind::kApiKey &&
      !token_has_scope(*principal, *resource))
    return invalid_scope(ctx);
  return FilterStatus::kContinue;
}

}  // namespace portico::gateway

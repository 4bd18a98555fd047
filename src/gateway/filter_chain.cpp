#include "gateway/filter_chain.h"

#include "common/jwt.h"
#include "gateway/filter_analytics.h"
#include "gateway/filter_auth.h"
#include "gateway/filter_backend_jwt.h"
#include "gateway/filter_correlation.h"
#include "gateway/filter_cors.h"
#include "gateway/filter_deny.h"
#include "gateway/filter_mediation.h"
#include "gateway/filter_route.h"
#include "gateway/filter_subscription.h"
#include "gateway/filter_throttle.h"

namespace portico::gateway {

FilterStatus reply_error(RequestContext& ctx, int status, long code, std::string_view message,
                         std::string_view description, std::string_view error_type) {
  LocalReply& reply = ctx.reply;
  reply.status = status;
  reply.code = code;
  reply.message = message;
  reply.description = description;
  reply.error_type = error_type;
  reply.is_error = true;
  reply.body.clear();
  return FilterStatus::kReply;
}

std::vector<std::unique_ptr<Filter>> build_filter_chain(const ChainOptions& options,
                                                        ChainDeps deps) {
  std::vector<std::unique_ptr<Filter>> chain;
  // 1. First, so that every reply, even a 404 for no API, and every analytics event carry
  //    the call's id, and the backend gets it too.
  chain.push_back(std::make_unique<CorrelationFilter>());
  // 2. Everything after needs the API and the resource: their security scheme, CORS
  //    settings, policies. Unknown paths, blocked and retired APIs stop here, before any
  //    credential is looked at.
  chain.push_back(std::make_unique<RouteFilter>());
  // 3. Before authentication: browsers send preflights without credentials, and a refusal
  //    must carry the CORS headers for the page to read it.
  chain.push_back(std::make_unique<CorsFilter>());
  // 4. Blocking conditions on the caller's address and on the API need no credential: before
  //    authentication, so that a blocked address costs no token or password check (and
  //    cannot use the gateway to guess credentials). After CORS, so that browsers can read
  //    the refusal.
  chain.push_back(std::make_unique<DenyFilter>());
  // 5. Who is calling. The only filter that may pause (a token the gateway cannot check by
  //    itself); cheap refusals above never cost a control-plane round trip.
  //    It may also pause once to ask the control plane about keys made a moment ago.
  chain.push_back(std::make_unique<AuthFilter>(deps.authenticator, options.strip_authorization,
                                               deps.miss_lookup));
  // 6. Needs the application from authentication; decides before any counter moves, so that
  //    an unsubscribed caller cannot spend anybody's quota. May pause once, like the one
  //    above, for a subscription made a moment ago.
  chain.push_back(std::make_unique<SubscriptionFilter>(deps.miss_lookup));
  // 7. Needs the subscription's and the application's policies; the last refusal, so that
  //    only requests that will be proxied are counted. Application and user blocking
  //    conditions are decided here, with the caller known.
  chain.push_back(std::make_unique<ThrottleFilter>(deps.throttler));
  // 8. Only for requests that will reach the backend; its response half runs when the
  //    backend's head arrives.
  chain.push_back(std::make_unique<MediationFilter>());
  // 9. After the header policies, so that a policy cannot replace or remove the assertion;
  //    last of the request path because signing is the most expensive step.
  if (options.backend_jwt && deps.backend_jwt_key != nullptr) {
    chain.push_back(std::make_unique<BackendJwtFilter>(
        *deps.backend_jwt_key, options.backend_jwt_header, options.backend_jwt_ttl_seconds,
        options.issuer_for_backend_jwt));
  }
  // 10. Acts on completion only, when every filter has said its piece about the call.
  if (deps.recorder != nullptr) chain.push_back(std::make_unique<AnalyticsFilter>(*deps.recorder));
  return chain;
}

}  // namespace portico::gateway

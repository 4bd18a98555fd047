#include "gateway/filter_deny.h"

#include "gateway/filter_common.h"
#include "traffic/traffic.h"

namespace portico::gateway {

FilterStatus DenyFilter::on_request(RequestContext& ctx, const std::function<void()>&) {
  const Api* api = ctx.route.api;
  const traffic::PolicySet* policies = ctx.snapshot->policies.get();
  if (api == nullptr || policies == nullptr) return FilterStatus::kContinue;
  traffic::ThrottleDecision d =
      traffic::decide_before_authentication(*policies, ctx.client_ip, api->context_version);
  if (d.allowed) return FilterStatus::kContinue;
  ctx.throttle = d;
  return reply_error(ctx, d.status, d.code, d.message, d.description, error_type::kThrottled);
}

}  // namespace portico::gateway

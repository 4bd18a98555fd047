#include "gateway/filter_mediation.h"

#include <algorithm>

#include "gateway/filter_common.h"

namespace portico::gateway {

void apply_header_policy(std::vector<HeaderEdit>& edits, const HeaderPolicy& policy) {
  // Whatever was added under this name before is replaced (add) or removed (remove).
  std::erase_if(edits,
                [&](const HeaderEdit& e) { return !e.remove && iequals(e.name, policy.name); });
  edits.push_back(HeaderEdit{true, policy.name, {}});
  if (policy.kind == HeaderPolicy::Kind::kAdd)
    edits.push_back(HeaderEdit{false, policy.name, policy.value});
}

FilterStatus MediationFilter::on_request(RequestContext& ctx, const std::function<void()>&) {
  if (const Resource* resource = ctx.route.resource) {
    for (const auto& policy : resource->request_headers)
      apply_header_policy(ctx.upstream_edits, policy);
  }
  return FilterStatus::kContinue;
}

void MediationFilter::on_response(RequestContext& ctx) {
  // A local reply (refusal, preflight, upstream failure) is the gateway's, not the API's.
  if (ctx.reply.status != 0) return;
  const Resource* resource = ctx.route.resource;
  if (resource == nullptr) return;
  for (const auto& policy : resource->response_headers)
    apply_header_policy(ctx.response_edits, policy);
}

}  // namespace portico::gateway

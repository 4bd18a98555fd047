#pragma once
// Internal to src/gateway: may this caller use this API and this resource?
#include "gateway/context.h"
#include "gateway/miss_lookup.h"

namespace portico::gateway {

// For OAuth and API-key callers: the application must be APPROVED and hold a subscription to
// the API (403 900908 otherwise); a BLOCKED subscription, or a PROD_ONLY_BLOCKED one used
// with a production key, is 401 900907; one awaiting approval (ON_HOLD) or REJECTED is 401
// 900909, as the reference's key validation answers SUBSCRIPTION_INACTIVE for both. Then the
// resource's scopes: an OAuth token needs one of them; a Basic-authenticated user needs a role
// bound to one of them (a scope the API lists without bindings is open; one it does not list
// at all is held by nobody); else 403 900910. API keys carry no
// scopes and, as in the reference, are not checked against them. Basic-authenticated callers
// need no subscription; anonymous calls pass.
class SubscriptionFilter final : public Filter {
 public:
  // `miss_lookup` (may be null): asked before refusing a subscription the snapshot does not
  // know.
  explicit SubscriptionFilter(MissLookup* miss_lookup = nullptr) : miss_lookup_(miss_lookup) {}
  std::string_view name() const override { return "subscription"; }
  FilterStatus on_request(RequestContext& ctx, const std::function<void()>& resume) override;

 private:
  MissLookup* miss_lookup_;
};

}  // namespace portico::gateway

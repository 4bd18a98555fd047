#pragma once
// Internal to src/gateway: blocking conditions that need no credential.
#include "gateway/context.h"

namespace portico::gateway {

// Refuses, before authentication, a caller whose address an IP or IP_RANGE blocking condition
// names (or that is outside an inverted one), and calls to a blocked API: 429 900805, as the
// throttle filter answers blocking conditions. Application and user conditions need the
// caller and stay with the throttle filter.
class DenyFilter final : public Filter {
 public:
  std::string_view name() const override { return "deny"; }
  FilterStatus on_request(RequestContext& ctx, const std::function<void()>& resume) override;
};

}  // namespace portico::gateway

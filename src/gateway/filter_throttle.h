#pragma once
// Internal to src/gateway: rate limits, quotas and blocking conditions.
#include "gateway/context.h"
#include "traffic/traffic.h"

namespace portico::gateway {

// Asks the throttler once, with everything it decides on (client IP, API, resource,
// subscription, application, user, key type, backend max TPS, request bytes), and turns a
// refusal into the reference's reply: 429 900800/900802/900803/900804/900806/900807 with
// Retry-After in seconds until the refusing window ends, 429 900805 for a blocking condition
// (no Retry-After: it does not end by itself), 503 900801 (with Retry-After) when the
// backend's max TPS is reached. A subscription over quota whose policy does not stop on quota
// reach is let through (the engine says so). On completion the response's bytes go to the
// bandwidth counters of the policies that admitted the request.
class ThrottleFilter final : public Filter {
 public:
  explicit ThrottleFilter(traffic::Throttler& throttler) : throttler_(throttler) {}

  std::string_view name() const override { return "throttle"; }
  FilterStatus on_request(RequestContext& ctx, const std::function<void()>& resume) override;
  void on_complete(RequestContext& ctx) override;

 private:
  traffic::Throttler& throttler_;
};

}  // namespace portico::gateway

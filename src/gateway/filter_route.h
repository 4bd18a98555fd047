#pragma once
// Internal to src/gateway: which API and resource a request is for.
#include "gateway/context.h"

namespace portico::gateway {

// Matches the normalised path against the snapshot's routes and refuses what cannot be served:
// no API (404), a BLOCKED API (503 700700), a RETIRED one (404, as if absent), no resource
// for the path and verb (403 900906). An OPTIONS request the API has no OPTIONS resource for
// is answered here with 200 and Allow, unless it is a CORS preflight for an API with CORS
// enabled: then the CORS filter answers it.
class RouteFilter final : public Filter {
 public:
  std::string_view name() const override { return "route"; }
  FilterStatus on_request(RequestContext& ctx, const std::function<void()>& resume) override;
};

// An OPTIONS request with Origin and Access-Control-Request-Method (the Fetch standard's
// CORS-preflight request).
bool is_cors_preflight(const RequestContext& ctx);

}  // namespace portico::gateway

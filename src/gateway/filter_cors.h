#pragma once
// Internal to src/gateway: cross-origin requests from browsers, per the API's CORS settings.
#include "gateway/context.h"

namespace portico::gateway {

// Answers a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method) for an API
// with CORS enabled and no OPTIONS resource of its own: 200, and for an allowed origin the
// Access-Control-Allow-Origin/-Methods/-Headers(/-Credentials) headers; a disallowed origin
// gets the 200 without them, and the browser refuses the call. It stands before
// authentication because browsers send preflights without credentials. On other requests
// from an allowed origin it adds Access-Control-Allow-Origin (and -Credentials) to whatever
// response goes back, local error replies included, so that the page can read them.
class CorsFilter final : public Filter {
 public:
  std::string_view name() const override { return "cors"; }
  FilterStatus on_request(RequestContext& ctx, const std::function<void()>& resume) override;
};

// Whether the origin is allowed: "*" allows any; otherwise an entry equal to it (ASCII case
// aside), or an entry with '*' standing for any run of characters other than '/'
// ("https://*.example.com"), matching all of it.
bool cors_origin_allowed(const Cors& cors, std::string_view origin);

}  // namespace portico::gateway

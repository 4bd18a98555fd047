#include "gateway/filter_analytics.h"

#include "gateway/filter_common.h"

namespace portico::gateway {
namespace {

using Clock = std::chrono::steady_clock;

// Milliseconds from `from` to `to`, 0 when either was never reached.
std::int64_t millis(Clock::time_point from, Clock::time_point to) {
  if (from == Clock::time_point{} || to == Clock::time_point{} || to < from) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

}  // namespace

analytics::Event AnalyticsFilter::event_for(const RequestContext& ctx) {
  analytics::Event e;
  fill_event(ctx, e);
  return e;
}

void AnalyticsFilter::fill_event(const RequestContext& ctx, analytics::Event& e) {
  e.clear();
  if (const Api* api = ctx.route.api) {
    e.api_id = api->id;
    e.api_name = api->name;
    e.api_version = api->version;
    e.api_context = api->context_version;
    e.api_creator = api->provider;
  }
  e.api_method = ctx.method;
  if (const Resource* resource = ctx.route.resource)
    e.api_resource_template = resource->uri_template;
  if (const Application* app = ctx.application) {
    e.application_id = app->id;
    e.application_name = app->name;
    e.application_owner = app->owner;
  }
  // Known only once a caller was authenticated: an anonymous or refused call has none.
  if (ctx.principal) e.key_type = ctx.key_type;
  e.user_name = ctx.user;
  e.user_ip = ctx.client_ip;
  if (auto agent = request_header(ctx, "User-Agent")) e.user_agent = *agent;
  e.correlation_id = ctx.correlation_id;

  e.proxy_response_code = ctx.proxy_status;
  e.target_response_code = ctx.target_status;
  if (ctx.upstream_error_code != 0) {
    // The backend could not be reached or failed mid-way: whatever the reply said, that is
    // the fault to count.
    e.error_code = ctx.upstream_error_code;
    e.error_type = error_type::kTargetConnectivity;
  } else if (ctx.reply.status != 0 && ctx.reply.is_error) {
    e.error_code = ctx.reply.code;
    e.error_type = ctx.reply.error_type;
  }

  e.response_latency_ms = millis(ctx.started, ctx.finished);
  e.backend_latency_ms = millis(ctx.upstream_started, ctx.upstream_head_received);
  e.request_mediation_latency_ms = millis(ctx.started, ctx.request_filters_done);
  e.response_mediation_latency_ms = millis(ctx.upstream_head_received, ctx.response_filters_done);
  e.request_timestamp_ms = ctx.now_ms;
  e.request_bytes = ctx.request_bytes;
  e.response_bytes = ctx.response_bytes;
}

void AnalyticsFilter::on_complete(RequestContext& ctx) {
  recorder_.record_in_place([&ctx](analytics::Event& e) { fill_event(ctx, e); });
}

}  // namespace portico::gateway

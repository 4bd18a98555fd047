#pragma once
// Internal to src/gateway: one analytics event per API call.
#include "analytics/analytics.h"
#include "gateway/context.h"

namespace portico::gateway {

// On completion (answered, refused, failed or aborted) fills the reference's event from the
// context and hands it to the Recorder, which only queues it: never blocks the request path.
class AnalyticsFilter final : public Filter {
 public:
  explicit AnalyticsFilter(analytics::Recorder& recorder) : recorder_(recorder) {}

  std::string_view name() const override { return "analytics"; }
  void on_complete(RequestContext& ctx) override;

  // The event for a completed context, into `e` whatever it held before (the Recorder's
  // queue slot), or new (exposed for tests).
  static void fill_event(const RequestContext& ctx, analytics::Event& e);
  static analytics::Event event_for(const RequestContext& ctx);

 private:
  analytics::Recorder& recorder_;
};

}  // namespace portico::gateway

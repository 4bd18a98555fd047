#pragma once
// Internal to src/gateway: the correlation id of an API call (the reference's activityid).
#include "gateway/context.h"

namespace portico::gateway {

// Takes the client's `activityid` when it is a sane token, else makes a UUID v4; forwards it
// upstream, returns it on the response, and analytics records it as the correlationId.
class CorrelationFilter final : public Filter {
 public:
  static constexpr std::string_view kHeader = "activityid";
  static constexpr std::size_t kMaxLength = 128;

  std::string_view name() const override { return "correlation"; }
  FilterStatus on_request(RequestContext& ctx, const std::function<void()>& resume) override;
  void on_response(RequestContext& ctx) override;

  // At most kMaxLength visible ASCII characters (no spaces, no controls): anything else could
  // split a log line or a header, and is replaced.
  static bool is_sane(std::string_view id);
};

}  // namespace portico::gateway

#include "gateway/filter_correlation.h"

#include "common/crypto.h"
#include "gateway/filter_common.h"

namespace portico::gateway {
namespace {

void ensure_id(RequestContext& ctx) {
  if (!ctx.correlation_id.empty()) return;
  auto offered = request_header(ctx, CorrelationFilter::kHeader);
  if (offered && CorrelationFilter::is_sane(*offered)) {
    ctx.correlation_id.assign(*offered);
  } else {
    ctx.correlation_id = crypto::uuid_v4();
  }
}

}  // namespace

bool CorrelationFilter::is_sane(std::string_view id) {
  if (id.empty() || id.size() > kMaxLength) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

FilterStatus CorrelationFilter::on_request(RequestContext& ctx, const std::function<void()>&) {
  ensure_id(ctx);
  // Replaces what the client sent: an insane id must not reach the backend either.
  set_header(ctx.upstream_edits, kHeader, ctx.correlation_id);
  return FilterStatus::kContinue;
}

void CorrelationFilter::on_response(RequestContext& ctx) {
  // Also for replies given before this filter ran (a path the session refused): the client
  // and the analytics event still get an id.
  ensure_id(ctx);
  set_header(ctx.response_edits, kHeader, ctx.correlation_id);
}

}  // namespace portico::gateway

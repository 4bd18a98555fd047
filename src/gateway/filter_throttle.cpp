#include "gateway/filter_throttle.h"

#include <boost/json/object.hpp>

#include <array>
#include <charconv>
#include <cstring>
#include <string>

#include "gateway/filter_common.h"

namespace portico::gateway {
namespace {

// What conditional groups look at, straight out of the request and the principal.
class ContextAttributes final : public traffic::RequestAttributes {
 public:
  explicit ContextAttributes(const RequestContext& ctx) : ctx_(ctx) {}

  std::optional<std::string_view> header(std::string_view name) const override {
    return request_header(ctx_, name);
  }
  // As received (percent-encoded): conditions name plain values in practice, and decoding
  // would cost an allocation per request for the rare one that is not.
  std::optional<std::string_view> query_parameter(std::string_view name) const override {
    return gateway::query_parameter(ctx_.query, name);
  }
  std::optional<std::string_view> claim(std::string_view name) const override {
    if (!ctx_.principal) return std::nullopt;
    const boost::json::value* v = ctx_.principal->claims.if_contains(name);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string_view(v->get_string());
  }

 private:
  const RequestContext& ctx_;
};

}  // namespace

FilterStatus ThrottleFilter::on_request(RequestContext& ctx, const std::function<void()>&) {
  const Api* api = ctx.route.api;
  const Resource* resource = ctx.route.resource;
  const traffic::PolicySet* policies = ctx.snapshot->policies.get();
  if (api == nullptr || resource == nullptr || policies == nullptr) return FilterStatus::kContinue;

  ContextAttributes attributes(ctx);
  traffic::ThrottleRequest request;
  request.client_ip = ctx.client_ip;
  request.api_id = api->id;
  request.api_context_version = api->context_version;
  request.api_policy = api->api_throttling_policy;
  request.resource_key = resource->throttle_key;
  request.resource_policy = resource->throttling_policy;
  if (const Subscription* sub = ctx.subscription) {
    request.subscription_key = sub->throttle_key;
    request.subscription_policy = sub->throttling_policy;
  }
  // "owner:name", as APPLICATION blocking conditions name applications: built on the stack,
  // the heap only for names too long for it.
  std::array<char, 512> owner_and_name;
  std::string long_owner_and_name;
  if (const Application* app = ctx.application) {
    request.application_id = app->id;
    request.application_policy = app->throttling_policy;
    std::size_t size = app->owner.size() + 1 + app->name.size();
    if (size <= owner_and_name.size()) {
      std::memcpy(owner_and_name.data(), app->owner.data(), app->owner.size());
      owner_and_name[app->owner.size()] = ':';
      std::memcpy(owner_and_name.data() + app->owner.size() + 1, app->name.data(),
                  app->name.size());
      request.application_owner_and_name = std::string_view(owner_and_name.data(), size);
    } else {
      long_owner_and_name = app->owner + ":" + app->name;
      request.application_owner_and_name = long_owner_and_name;
    }
  }
  request.user = ctx.user;
  request.key_type = ctx.key_type;
  request.backend_max_tps =
      ctx.key_type == "SANDBOX" ? api->max_tps_sandbox : api->max_tps_production;
  request.request_bytes = ctx.request_bytes;
  request.now_ms = ctx.now_ms;
  request.attributes = &attributes;

  ctx.throttle = throttler_.decide(*policies, request);
  const traffic::ThrottleDecision& d = ctx.throttle;
  if (d.allowed) return FilterStatus::kContinue;
  reply_error(ctx, d.status, d.code, d.message, d.description, error_type::kThrottled);
  if (d.retry_after_seconds > 0) {
    std::array<char, 24> digits;
    auto [end, ec] =
        std::to_chars(digits.data(), digits.data() + digits.size(), d.retry_after_seconds);
    ctx.reply.headers.emplace_back("Retry-After", std::string(digits.data(), end));
  }
  return FilterStatus::kReply;
}

void ThrottleFilter::on_complete(RequestContext& ctx) {
  const traffic::ThrottleDecision& d = ctx.throttle;
  if (!d.allowed || d.bandwidth_count == 0 || ctx.response_bytes <= 0) return;
  // The window the bytes count in is the one they finished in.
  std::int64_t now_ms = ctx.now_ms;
  if (ctx.finished > ctx.started) {
    now_ms +=
        std::chrono::duration_cast<std::chrono::milliseconds>(ctx.finished - ctx.started).count();
  }
  throttler_.record_bytes(d, ctx.response_bytes, now_ms);
}

}  // namespace portico::gateway

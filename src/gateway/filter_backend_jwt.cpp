#include "gateway/filter_backend_jwt.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <exception>

#include "gateway/filter_common.h"

namespace portico::gateway {
namespace {

std::atomic<std::uint64_t> next_filter_id{1};

struct CachedToken {
  std::string token;
  std::int64_t refresh_at = 0;  // unix seconds: a new token from then on
  std::uint64_t snapshot_version = 0;
};

std::string claim_name(std::string_view suffix) {
  std::string name(BackendJwtFilter::kDialect);
  name += '/';
  name += suffix;
  return name;
}

}  // namespace

BackendJwtFilter::BackendJwtFilter(const jwt::SigningKey& key, std::string header,
                                   std::int64_t ttl_seconds, std::string issuer)
    : key_(key),
      header_(std::move(header)),
      ttl_seconds_(std::max<std::int64_t>(ttl_seconds, 1)),
      issuer_(std::move(issuer)),
      id_(next_filter_id.fetch_add(1, std::memory_order_relaxed)) {}

std::string BackendJwtFilter::claims_json(const RequestContext& ctx, std::int64_t now) const {
  boost::json::object claims;
  claims["iss"] = issuer_;
  claims["iat"] = now;
  // Seconds (RFC 7519's NumericDate); the reference sends milliseconds as a string.
  claims["exp"] = now + ttl_seconds_;
  auto put = [&](std::string_view suffix, std::string_view value) {
    // As the reference: a claim without a value is left out.
    if (!value.empty()) claims[claim_name(suffix)] = value;
  };
  if (const Application* app = ctx.application) {
    put("subscriber", app->owner);
    put("applicationid", app->id);
    put("applicationUUId", app->id);
    put("applicationname", app->name);
    put("applicationtier", app->throttling_policy);
  }
  if (const Api* api = ctx.route.api) {
    put("apiname", api->name);
    put("apicontext", api->context_version);
    put("version", api->version);
  }
  if (const Subscription* sub = ctx.subscription) put("tier", sub->throttling_policy);
  put("keytype", ctx.key_type);
  const Principal* principal = ctx.principal.get();
  bool end_user = principal != nullptr &&
                  (principal->application_user || principal->kind == Principal::Kind::kBasic ||
                   principal->kind == Principal::Kind::kApiKey);
  put("usertype", end_user ? "APPLICATION_USER" : "APPLICATION");
  put("enduser", ctx.user);
  put("enduserTenantId", kTenantId);
  return boost::json::serialize(claims);
}

FilterStatus BackendJwtFilter::on_request(RequestContext& ctx, const std::function<void()>&) {
  const Principal* principal = ctx.principal.get();
  const Api* api = ctx.route.api;
  if (principal == nullptr || api == nullptr) {
    // Anonymous: nobody to vouch for, and nobody may pose as someone to the backend.
    ctx.upstream_edits.push_back(HeaderEdit{true, header_, {}});
    return FilterStatus::kContinue;
  }
  std::int64_t now = ctx.now_ms / 1000;

  thread_local StringMap<CachedToken> cache;
  thread_local std::string key;
  key.clear();
  key.append(reinterpret_cast<const char*>(&id_), sizeof id_);
  key += api->id;
  key += '\n';
  // A token or API key is one caller with one application and key type; a Basic user is
  // known by name only.
  if (!principal->jti.empty()) {
    key += "j:";
    key += principal->jti;
  } else {
    key += "u:";
    key += ctx.user;
  }
  std::uint64_t version = ctx.snapshot->version;
  auto it = cache.find(std::string_view(key));
  if (it == cache.end() || it->second.snapshot_version != version || now >= it->second.refresh_at) {
    CachedToken fresh;
    try {
      fresh.token = key_.encode(claims_json(ctx, now));
    } catch (const std::exception&) {
      // OpenSSL failed to sign (out of memory): the reference answers 900900 then.
      return reply_error(ctx, 500, errors::kAuthGeneral, errors::kAuthGeneralMessage,
                         errors::kBackendJwtFailedDescription, error_type::kAuth);
    }
    // Renewed a little before it expires, so that the backend never sees an expired one.
    fresh.refresh_at = now + ttl_seconds_ - std::min<std::int64_t>(60, ttl_seconds_ / 4);
    fresh.snapshot_version = version;
    if (it == cache.end()) {
      if (cache.size() >= kMaxCachedPerThread) {
        std::erase_if(cache, [now](const auto& e) { return now >= e.second.refresh_at; });
        if (cache.size() >= kMaxCachedPerThread) cache.clear();
      }
      it = cache.emplace(key, std::move(fresh)).first;
    } else {
      it->second = std::move(fresh);
    }
  }
  set_header(ctx.upstream_edits, header_, it->second.token);
  return FilterStatus::kContinue;
}

}  // namespace portico::gateway

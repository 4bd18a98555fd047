#include "trafficmanager/trafficmanager.h"

#include <stdexcept>

#include "common/api_error.h"
#include "common/clock.h"
#include "keymanager/keymanager.h"
#include "trafficmanager/lease_service.h"

namespace portico::trafficmanager {
namespace {

// Well inside a gateway's lease time limit: a Redis that hangs fails the call, not the gateway.
constexpr std::chrono::milliseconds kRedisTimeout(500);
// Connections kept open between calls: about one per server thread.
constexpr std::size_t kIdleConnections = 16;
constexpr std::string_view kBase = "/internal/traffic/v1";

events::RedisAddress redis_address(const std::string& url) {
  try {
    return events::parse_redis_url(url);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("redis.url: ") + e.what());
  }
}

}  // namespace

struct TrafficManager::Impl {
  Impl(const Config& c, store::Database& db, events::EventBus& bus)
      : internal_api(c.internal_api),
        redis(redis_address(c.redis.url), kRedisTimeout, kIdleConnections),
        long_windows(db, redis, RedisKeys(c.redis.key_prefix)),
        service(redis, RedisKeys(c.redis.key_prefix),
                std::int64_t{c.traffic.membership_ttl_seconds} * 1000, long_windows, bus) {}

  // The gateways' credential, as the internal data API takes it.
  void authenticate(const http::Request& request) const {
    if (keymanager::is_internal_credential(request, internal_api)) return;
    ApiError e(401, 900901, "Invalid Credentials",
               "The traffic API needs the gateway credential of [internal_api]");
    e.headers["WWW-Authenticate"] = "Basic realm=\"portico-internal\"";
    throw e;
  }

  InternalApiConfig internal_api;
  RedisPool redis;
  LongWindows long_windows;
  LeaseService service;
};

TrafficManager::TrafficManager(const Config& config, store::Database& db, events::EventBus& bus)
    : impl_(std::make_unique<Impl>(config, db, bus)) {
  impl_->long_windows.start(std::chrono::seconds(config.traffic.flush_seconds));
}

TrafficManager::~TrafficManager() {
  stop();
}

void TrafficManager::stop() {
  impl_->long_windows.stop();
}

bool TrafficManager::ready() {
  return impl_->redis.answers();
}

void TrafficManager::register_routes(http::Router& router) {
  Impl& impl = *impl_;
  router.add("POST", std::string(kBase) + "/leases", [&impl](http::Request& request) {
    impl.authenticate(request);
    LeaseRequest lease = parse_lease_request(request.body);
    return http::Response::json(200, impl.service.lease(lease, unix_now_ms()));
  });
  router.add("GET", std::string(kBase) + "/throttled", [&impl](http::Request& request) {
    impl.authenticate(request);
    return http::Response::json(200, impl.service.throttled(unix_now_ms()));
  });
}

}  // namespace portico::trafficmanager

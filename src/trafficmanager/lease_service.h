#pragma once
// The traffic API's work: a lease call applied by the lease script, the counters it spent
// announced on the event log, and the list of spent counters.
#include <cstdint>
#include <string>

#include "events/event_bus.h"
#include "trafficmanager/lease_request.h"
#include "trafficmanager/lease_script.h"
#include "trafficmanager/long_windows.h"
#include "trafficmanager/redis_pool.h"

namespace portico::trafficmanager {

class LeaseService {
 public:
  LeaseService(RedisPool& redis, RedisKeys keys, std::int64_t membership_ttl_ms,
               LongWindows& long_windows, events::EventBus& bus);

  // The response body of POST /internal/traffic/v1/leases. Throws ApiError 503 900809 when
  // Redis cannot be reached (nothing is applied then).
  std::string lease(const LeaseRequest& request, std::int64_t now_ms);
  // The response body of GET /internal/traffic/v1/throttled; 503 900809 as lease().
  std::string throttled(std::int64_t now_ms);

 private:
  RedisPool& redis_;
  const RedisKeys keys_;
  const std::int64_t membership_ttl_ms_;
  LongWindows& long_windows_;
  events::EventBus& bus_;
  LeaseScript script_;
};

}  // namespace portico::trafficmanager

#pragma once
// The traffic manager (profile traffic-manager): leases the quota of cluster-wide counters to
// the gateways from Redis, keeps counters of an hour or longer in the database, and announces
// spent counters on the event log (docs/throttling.md, "Traffic manager").
#include <memory>

#include "common/config.h"
#include "events/event_bus.h"
#include "http/message.h"
#include "store/database.h"

namespace portico::trafficmanager {

class TrafficManager {
 public:
  // Starts flushing long windows to `db` every traffic.flush_seconds. Throws ConfigError for
  // a wrong redis.url.
  TrafficManager(const Config& config, store::Database& db, events::EventBus& bus);
  ~TrafficManager();  // stop()

  // POST /internal/traffic/v1/leases and GET /internal/traffic/v1/throttled, for callers with
  // the [internal_api] credential.
  void register_routes(http::Router& router);
  // Whether Redis answers (the node's readiness).
  bool ready();
  // Writes the long windows a last time and ends the flush thread. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::trafficmanager

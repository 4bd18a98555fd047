#pragma once
// Read-your-writes for credentials and subscriptions: a call whose OAuth client, application
// or subscription the snapshot does not know yet (made through the REST API a moment ago,
// before the event's re-pull) makes the gateway ask the control plane once before refusing.
// The per-item read runs on the control-plane thread; what it learns is handed to `learned`
// (which patches the live snapshot) and to every caller waiting on the same key. Lookups of
// one key are coalesced, and a key the control plane did not know is not asked again for
// `negative_cache` (a flood of calls with a deleted application's token costs one read per
// window, not one per call).
#include <boost/asio/any_io_executor.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/control_plane.h"
#include "gateway/snapshot.h"

namespace portico::gateway {

struct MissLookupOptions {
  std::chrono::seconds negative_cache{5};  // gateway.miss_lookup_cache_seconds
  std::size_t max_cached_misses = 100000;  // beyond this, expired entries are purged first
};

class MissLookup {
 public:
  // The application as the control plane knows it now; null when it knows none.
  using Done = std::function<void(std::shared_ptr<const ApplicationRecord>)>;
  // Called on the control-plane thread with every application a lookup found, and the body
  // of the read it was parsed from.
  using Learned = std::function<void(const ApplicationRecord&, const boost::json::value&)>;

  MissLookup(MissLookupOptions options, ControlPlane& control_plane, ControlPlaneWorker& worker,
             Learned learned);
  ~MissLookup();  // waits for a lookup under way; callers still waiting are never answered
  MissLookup(const MissLookup&) = delete;
  MissLookup& operator=(const MissLookup&) = delete;

  // The application of OAuth client `client_id`. False, without calling `done`, when the
  // control plane said within the window that it knows none: refuse at once. Otherwise
  // `done` is posted to `executor` once the control plane answered.
  bool ask_for_client(std::string_view client_id, boost::asio::any_io_executor executor, Done done);
  // Application `application_id`, for a call to API `api_id` ("" when the application
  // itself is missing, non-empty when its subscription to that API is): same contract.
  bool ask_for_application(std::string_view application_id, std::string_view api_id,
                           boost::asio::any_io_executor executor, Done done);

  struct Stats {
    std::uint64_t found = 0;      // control-plane reads that found the application
    std::uint64_t not_found = 0;  // ... that found none, or not the subscription asked for
    std::uint64_t failed = 0;     // ... that got no answer (unreachable, 5xx, bad body)
    std::uint64_t coalesced = 0;  // callers that waited on a read another caller started
    std::uint64_t cached = 0;     // callers refused from the negative cache, without a read
  };
  Stats stats() const;
  // The counts above in Prometheus text format, for the gateway's /metrics.
  std::string metrics_text() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace portico::gateway

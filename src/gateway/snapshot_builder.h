#pragma once
// Compiles what the internal data API serves (runtime artifacts, applications, key mappings,
// subscriptions, policies) into an immutable Snapshot. Everything the request path would
// otherwise parse per request is done here: endpoint URLs, auth types, routing keys, header
// policies, CORS strings, throttle keys and the traffic policy set.
#include <boost/json/array.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gateway/snapshot.h"

namespace portico::gateway {

// The raw lists one pull of the internal data API returns, item shapes as served there.
struct SnapshotSources {
  std::string environment;
  boost::json::array runtime_artifacts, applications, key_mappings, subscriptions,
      subscription_policies, application_policies, advanced_policies, deny_policies;
};

// Gives each distinct endpoint (url + timeouts + suspend settings) a small integer that stays
// the same across snapshots, so that per-thread state indexed by it (connection pools,
// suspension) survives a configuration change. Slots are never reused within a process: an
// endpoint that disappears and comes back gets its old slot; one that never comes back costs
// one unused index. Thread-safe (builds run on one thread, but tests and tools may share it).
class EndpointSlots {
 public:
  static constexpr std::size_t kDefaultCapacity = 65536;

  explicit EndpointSlots(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // The endpoint's slot (assigning the next free one the first time it is seen); nullopt once
  // `capacity()` distinct endpoints have been seen.
  std::optional<std::size_t> slot_for(const Endpoint& endpoint);
  // Slots assigned so far: per-thread tables sized to this hold every slot of a snapshot.
  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> slots_;  // by identity key
};

// One warning per skipped or corrected item goes to `warnings` (may be null); a malformed
// item is skipped, never thrown. Returns nullptr only when the traffic policy set could not
// be built at all: a snapshot without policies must not replace a good one.
std::shared_ptr<const Snapshot> build_snapshot(const SnapshotSources& sources,
                                               std::uint64_t version, EndpointSlots& slots,
                                               std::vector<std::string>* warnings);

// One runtime artifact compiled, as a per-item read of the internal data API answers it;
// nullptr (with the reason in `warnings`) when it is malformed.
std::shared_ptr<const Api> compile_api(const boost::json::value& artifact, EndpointSlots& slots,
                                       std::vector<std::string>* warnings);

// One item of the internal data API's lists, as the snapshot holds it; nullopt when the item
// lacks the ids that place it (an application's id; a mapping's clientId and applicationId; a
// subscription's applicationId and apiId). The key mapping comes with its client id.
std::optional<Application> parse_application(const boost::json::value& item);
std::optional<std::pair<std::string, KeyMapping>> parse_key_mapping(const boost::json::value& item);
std::optional<Subscription> parse_subscription(const boost::json::value& item);

// What the per-item read of one application answers (the application's fields plus
// "keyMappings" and "subscriptions"); key mappings and subscriptions of another application
// are dropped. nullopt when the application has no id.
std::optional<ApplicationRecord> parse_application_record(const boost::json::value& item);

// Parses one endpoint URL ("https://host:8443/base/") into url, tls, host, port,
// host_header and base_path; nullopt with the reason in `error` when it is not an absolute
// http(s) URL with a host and without query, fragment or user info. Timeouts and suspension
// keep their defaults; `slot` is left 0.
std::optional<Endpoint> parse_endpoint_url(std::string_view url, std::string* error);

// The reference's operation authType strings; nullopt for anything else.
std::optional<AuthType> parse_auth_type(std::string_view text);

}  // namespace portico::gateway

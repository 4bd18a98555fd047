#pragma once
// The lease rule (docs/throttling.md, "Traffic manager"), applied by one Lua script per call so
// that every counter of a call, and the caller's membership, change atomically.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/redis_connection.h"
#include "trafficmanager/lease_request.h"
#include "trafficmanager/redis_script.h"

namespace portico::trafficmanager {

// Where the traffic manager's data lives in Redis, under [redis] key_prefix.
struct RedisKeys {
  explicit RedisKeys(const std::string& prefix)
      : quota(prefix + ":quota:"),
        throttled(prefix + ":quota:throttled"),
        members(prefix + ":traffic:members") {}
  std::string counter(const CounterAsk& c) const { return quota + c.id(); }

  std::string quota;      // a counter-window's key is this + CounterAsk::id()
  std::string throttled;  // ZSET: counter-window ids scored by their window's end
  std::string members;    // ZSET: gateways scored by when they stop counting
};

// One counter of a call as the script takes it.
struct ScriptCounter {
  const CounterAsk* ask = nullptr;
  std::int64_t seed = -1;  // long windows: the stored count, used when Redis lost the key
  bool ended = false;      // its window ended over a second ago: read, change nothing
};

struct ScriptResult {
  std::int64_t members = 1;
  std::vector<CounterGrant> grants;  // in the order of the counters
};

class LeaseScript {
 public:
  LeaseScript();
  // Applies one call. nullopt when Redis cannot be reached; throws std::runtime_error on an
  // error reply.
  std::optional<ScriptResult> run(events::RedisConnection& redis, const RedisKeys& keys,
                                  const std::string& gateway, std::int64_t now_ms,
                                  std::int64_t membership_ttl_ms,
                                  const std::vector<ScriptCounter>& counters);

 private:
  RedisScript script_;
};

}  // namespace portico::trafficmanager

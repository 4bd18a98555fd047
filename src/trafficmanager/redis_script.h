#pragma once
// One Lua script run by its digest (EVALSHA): loaded with SCRIPT LOAD on first use, and again
// when Redis answers NOSCRIPT (it restarted or its scripts were flushed).
#include <mutex>
#include <string>
#include <vector>

#include "events/redis_connection.h"

namespace portico::trafficmanager {

class RedisScript {
 public:
  explicit RedisScript(std::string source) : source_(std::move(source)) {}
  // The script's reply (a Redis error reply included); null when Redis cannot be reached.
  events::Reply run(events::RedisConnection& redis, const std::vector<std::string>& keys,
                    const std::vector<std::string>& args);

 private:
  // The digest Redis gives the script; empty when it could not be loaded.
  std::string load(events::RedisConnection& redis);

  const std::string source_;
  std::mutex mutex_;
  std::string sha_;  // guarded by mutex_
};

}  // namespace portico::trafficmanager

#include "trafficmanager/redis_pool.h"

#include <hiredis/hiredis.h>

namespace portico::trafficmanager {

RedisPool::RedisPool(events::RedisAddress address, std::chrono::milliseconds timeout,
                     std::size_t max_idle)
    : address_(std::move(address)), timeout_(timeout), max_idle_(max_idle) {}

RedisPool::Handle RedisPool::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return Handle(*this, std::move(connection));
    }
  }
  return Handle(*this, std::make_unique<events::RedisConnection>(address_, timeout_));
}

void RedisPool::give_back(std::unique_ptr<events::RedisConnection> connection) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(connection));
}

bool RedisPool::answers() {
  auto redis = acquire();
  if (!redis->ensure_connected()) return false;
  auto reply = redis->command({"PING"});
  return reply && reply->type == REDIS_REPLY_STATUS;
}

}  // namespace portico::trafficmanager

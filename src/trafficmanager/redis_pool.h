#pragma once
// Blocking Redis connections for the server threads: each call takes one of its own, so that
// lease calls do not queue behind each other on one socket.
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "events/redis_connection.h"

namespace portico::trafficmanager {

class RedisPool {
 public:
  // Keeps at most `max_idle` connections open between calls.
  RedisPool(events::RedisAddress address, std::chrono::milliseconds timeout, std::size_t max_idle);

  // A connection for one caller, back in the pool when it goes out of scope.
  class Handle {
   public:
    Handle(RedisPool& pool, std::unique_ptr<events::RedisConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    ~Handle() { pool_.give_back(std::move(connection_)); }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    events::RedisConnection& operator*() { return *connection_; }
    events::RedisConnection* operator->() { return connection_.get(); }

   private:
    RedisPool& pool_;
    std::unique_ptr<events::RedisConnection> connection_;
  };

  Handle acquire();
  // Whether Redis answers PING now.
  bool answers();

 private:
  void give_back(std::unique_ptr<events::RedisConnection> connection);

  events::RedisAddress address_;
  std::chrono::milliseconds timeout_;
  std::size_t max_idle_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<events::RedisConnection>> idle_;
};

}  // namespace portico::trafficmanager

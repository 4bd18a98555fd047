#pragma once
// One blocking connection to Redis (hiredis), for the event log's own threads. Every
// call has a time limit; a failed call closes the connection and the caller reconnects.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;
struct redisReply;

namespace portico::events {

// redis://[[user]:password@]host[:port][/db]
struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;
  int db = 0;
};
// Throws std::invalid_argument with what is wrong.
RedisAddress parse_redis_url(std::string_view url);

struct ReplyDeleter {
  void operator()(redisReply* r) const;
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisConnection {
 public:
  RedisConnection(RedisAddress address, std::chrono::milliseconds timeout);
  ~RedisConnection();
  // Connects if needed (AUTH, SELECT); false when Redis cannot be reached.
  bool ensure_connected();
  // Sends one command; null on an I/O error or time-out (the connection is closed then).
  // A Redis error reply is returned as a reply of type REDIS_REPLY_ERROR.
  Reply command(const std::vector<std::string>& args,
                std::chrono::milliseconds extra_timeout = std::chrono::milliseconds(0));
  // Makes a call blocked in another thread return at once (used to stop).
  void interrupt();
  const std::string& last_error() const { return last_error_; }

 private:
  void close();
  RedisAddress address_;
  std::chrono::milliseconds timeout_;
  std::mutex fd_mutex_;  // guards ctx_ against interrupt() from another thread
  redisContext* ctx_ = nullptr;
  std::string last_error_;
};

}  // namespace portico::events

#pragma once
// Counters of an hour or longer outlive Redis: the traffic manager writes the ones it touched
// to the database every traffic.flush_seconds (the larger count wins), and seeds a Redis key
// that is gone (Redis restarted empty) from what it last saw or, failing that, the database.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/quota_windows_repository.h"
#include "trafficmanager/lease_request.h"
#include "trafficmanager/lease_script.h"
#include "trafficmanager/redis_pool.h"

namespace portico::trafficmanager {

class LongWindows {
 public:
  LongWindows(store::Database& db, RedisPool& redis, RedisKeys keys);
  ~LongWindows();  // stop()

  // The count a lost Redis key starts again from: the last this traffic manager saw of it,
  // else the database's, else 0. Asks the database once per counter-window, and not for a few
  // seconds after it failed.
  std::int64_t seed(const CounterAsk& counter);
  // A call left `reserved` in Redis: remembered, and written at the next flush.
  void touched(const CounterAsk& counter, std::int64_t reserved);
  // Writes the touched counters (their current Redis values) to the database and forgets
  // windows that have ended. False when the database refused them (they are kept for the next
  // flush).
  bool flush(std::int64_t now_ms);
  // Open windows the database holds as spent (used >= limit).
  std::vector<store::QuotaWindow> spent(std::int64_t now_ms);

  // Flushes every `interval` on a thread of its own, and deletes ended windows now and then.
  void start(std::chrono::milliseconds interval);
  // Ends the thread after a last flush. Idempotent.
  void stop();

 private:
  struct Entry {
    store::QuotaWindow window;  // `used`: the last count seen
    std::int64_t window_end_ms = 0;
    bool dirty = false;
  };
  // Overwrites the entries' `used` with Redis's current values where Redis has them.
  void read_current(std::vector<Entry>& entries);
  void run(std::chrono::milliseconds interval);

  store::QuotaWindowsRepository repository_;
  RedisPool& redis_;
  const RedisKeys keys_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // by CounterAsk::id()
  // After a failed read, seeds skip the database until then: calls must not wait on it.
  std::chrono::steady_clock::time_point database_retry_at_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace portico::trafficmanager

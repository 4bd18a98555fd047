#include "trafficmanager/long_windows.h"

#include <hiredis/hiredis.h>

#include <charconv>

#include "common/clock.h"
#include "common/log.h"

namespace portico::trafficmanager {
namespace {

// Ended windows leave the database this often (they are harmless meanwhile).
constexpr auto kPurgeInterval = std::chrono::minutes(10);
// Seeds do without the database this long after it failed.
constexpr auto kDatabaseRetry = std::chrono::seconds(5);
// Keys per MGET while flushing.
constexpr std::size_t kReadBatch = 500;

std::string id_of(const store::QuotaWindow& w) {
  return w.counter_key + ":" + std::to_string(w.window_ms) + ":" + std::to_string(w.window_index);
}

}  // namespace

LongWindows::LongWindows(store::Database& db, RedisPool& redis, RedisKeys keys)
    : repository_(db), redis_(redis), keys_(std::move(keys)) {}

LongWindows::~LongWindows() {
  stop();
}

std::int64_t LongWindows::seed(const CounterAsk& counter) {
  const std::string id = counter.id();
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(id); it != entries_.end()) return it->second.window.used;
    if (std::chrono::steady_clock::now() < database_retry_at_) return 0;
  }
  std::int64_t stored = 0;
  try {
    stored = repository_.used(counter.key, counter.window_ms, counter.window).value_or(0);
  } catch (const std::exception& e) {
    // Redis normally still has the key, and then the seed is not used.
    spdlog::warn("traffic manager: cannot read the stored count of {}: {}", id, e.what());
    std::lock_guard lock(mutex_);
    database_retry_at_ = std::chrono::steady_clock::now() + kDatabaseRetry;
    return 0;
  }
  std::lock_guard lock(mutex_);
  auto [it, inserted] = entries_.try_emplace(id);
  if (inserted) {
    it->second.window = {counter.key, counter.window_ms, counter.window, stored, counter.limit};
    it->second.window_end_ms = counter.window_end_ms();
  }
  return it->second.window.used;
}

void LongWindows::touched(const CounterAsk& counter, std::int64_t reserved) {
  std::lock_guard lock(mutex_);
  Entry& e = entries_[counter.id()];
  e.window = {counter.key, counter.window_ms, counter.window, reserved, counter.limit};
  e.window_end_ms = counter.window_end_ms();
  e.dirty = true;
}

void LongWindows::read_current(std::vector<Entry>& entries) {
  auto redis = redis_.acquire();
  if (!redis->ensure_connected()) return;  // what was last seen is still worth keeping
  for (std::size_t from = 0; from < entries.size(); from += kReadBatch) {
    std::size_t to = std::min(entries.size(), from + kReadBatch);
    std::vector<std::string> command{"MGET"};
    for (std::size_t i = from; i < to; ++i)
      command.push_back(keys_.quota + id_of(entries[i].window));
    auto reply = redis->command(command);
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != to - from) return;
    for (std::size_t i = from; i < to; ++i) {
      const redisReply* value = reply->element[i - from];
      std::int64_t n = 0;
      if (value->type != REDIS_REPLY_STRING) continue;
      auto [end, ec] = std::from_chars(value->str, value->str + value->len, n);
      if (ec == std::errc{}) entries[i].window.used = n;
    }
  }
}

bool LongWindows::flush(std::int64_t now) {
  std::vector<Entry> dirty;
  {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.dirty) {
        dirty.push_back(it->second);
        it->second.dirty = false;
      }
      // Redis keeps a key 60 s past its window's end; so does this cache.
      if (it->second.window_end_ms + 60'000 < now)
        it = entries_.erase(it);
      else
        ++it;
    }
  }
  if (dirty.empty()) return true;
  read_current(dirty);
  std::vector<store::QuotaWindow> windows;
  windows.reserve(dirty.size());
  for (const Entry& e : dirty) windows.push_back(e.window);
  try {
    repository_.save_greatest(windows);
  } catch (const std::exception& e) {
    spdlog::warn("traffic manager: cannot write {} long windows: {}", windows.size(), e.what());
    std::lock_guard lock(mutex_);
    for (const Entry& d : dirty) {
      auto [it, inserted] = entries_.try_emplace(id_of(d.window), d);
      it->second.dirty = true;
    }
    return false;
  }
  std::lock_guard lock(mutex_);
  for (const Entry& d : dirty)
    if (auto it = entries_.find(id_of(d.window)); it != entries_.end() && !it->second.dirty)
      it->second.window.used = d.window.used;
  return true;
}

std::vector<store::QuotaWindow> LongWindows::spent(std::int64_t now) {
  std::vector<store::QuotaWindow> result;
  for (auto& w : repository_.open_windows(now))
    if (w.limit_amount > 0 && w.used >= w.limit_amount) result.push_back(std::move(w));
  return result;
}

void LongWindows::start(std::chrono::milliseconds interval) {
  thread_ = std::thread([this, interval] { run(interval); });
}

void LongWindows::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LongWindows::run(std::chrono::milliseconds interval) {
  auto next_purge = std::chrono::steady_clock::now();
  bool stopping = false;
  while (!stopping) {
    {
      std::unique_lock lock(mutex_);
      stopping = wake_.wait_for(lock, interval, [this] { return stopping_; });
    }
    flush(unix_now_ms());
    if (std::chrono::steady_clock::now() < next_purge) continue;
    next_purge = std::chrono::steady_clock::now() + kPurgeInterval;
    try {
      if (auto n = repository_.purge_ended(unix_now_ms()))
        spdlog::info("traffic manager: deleted {} ended long windows", n);
    } catch (const std::exception& e) {
      spdlog::warn("traffic manager: cannot delete ended long windows: {}", e.what());
    }
  }
}

}  // namespace portico::trafficmanager

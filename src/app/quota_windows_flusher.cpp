#include "app/quota_windows_flusher.h"

#include "common/log.h"
#include "traffic/traffic.h"

namespace portico {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::size_t QuotaWindowsFlusher::restore() {
  try {
    const std::int64_t now = now_ms();
    std::vector<traffic::WindowCount> counts;
    for (const store::QuotaWindow& row : rows_.open_windows(now)) {
      auto key = traffic::parse_counter_key(row.counter_key);
      if (!key) continue;  // not written by this version: nothing of ours to count
      counts.push_back({*key, row.window_ms, row.window_index, row.used, row.limit_amount});
    }
    std::size_t restored = throttler_.restore(counts, now);
    if (restored > 0) spdlog::info("restored {} quota windows of an hour or longer", restored);
    return restored;
  } catch (const std::exception& e) {
    spdlog::warn("restoring quota windows failed, their counts start from zero: {}", e.what());
    return 0;
  }
}

void QuotaWindowsFlusher::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      flush_once();
      lock.lock();
    }
  });
}

void QuotaWindowsFlusher::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopping_ = true;
    stopped_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  flush_once();
}

bool QuotaWindowsFlusher::flush_once() {
  try {
    const std::int64_t now = now_ms();
    std::vector<store::QuotaWindow> rows;
    for (const traffic::WindowCount& w : throttler_.long_windows(now)) {
      rows.push_back({traffic::format_counter_key(w.key), w.window_ms, w.window, w.count, w.limit});
    }
    rows_.save_greatest(rows);
    rows_.purge_ended(now);
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("writing quota windows failed: {}", e.what());
    return false;
  }
}

}  // namespace portico

#pragma once
// A small, bounded, thread-safe map whose entries expire: the Key Manager's in-memory
// memory of recent lookups (client records, users, verified secrets).
#include <chrono>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace portico::keymanager {

template <class Key, class Value>
class ExpiringCache {
 public:
  using Clock = std::chrono::steady_clock;

  // A ttl of zero disables the cache: nothing is stored, every lookup misses.
  explicit ExpiringCache(std::chrono::seconds ttl, std::size_t max_entries = 10000)
      : ttl_(ttl), max_entries_(max_entries) {}

  std::optional<Value> get(const Key& key) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    if (it->second.expires < Clock::now()) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.value;
  }

  void put(const Key& key, Value value) {
    if (ttl_.count() == 0) return;
    auto now = Clock::now();
    std::lock_guard lock(mutex_);
    if (entries_.size() >= max_entries_) {
      std::erase_if(entries_, [&](auto& e) { return e.second.expires < now; });
      if (entries_.size() >= max_entries_) entries_.clear();  // bounded memory beats hit rate
    }
    entries_.insert_or_assign(key, Entry{std::move(value), now + ttl_});
  }

  void erase(const Key& key) {
    std::lock_guard lock(mutex_);
    entries_.erase(key);
  }

  void clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
  }

 private:
  struct Entry {
    Value value;
    Clock::time_point expires;
  };
  std::chrono::seconds ttl_;
  std::size_t max_entries_;
  std::mutex mutex_;
  std::unordered_map<Key, Entry> entries_;
};

}  // namespace portico::keymanager

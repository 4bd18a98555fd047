#include "keymanager/purger.h"

#include "common/clock.h"
#include "common/log.h"

namespace portico::keymanager {

void Purger::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      purge_once();
      lock.lock();
      wake_.wait_for(lock, interval_, [this] { return stopping_; });
    }
  });
}

void Purger::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int Purger::purge_once() {
  try {
    int removed = tokens_.purge_expired(unix_now());
    auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    removed += login_failures_.purge(
        now_ms,
        now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(failures_kept_).count());
    if (removed > 0)
      spdlog::info("purged {} expired codes, tokens, revocations and sign-in failure counts",
                   removed);
    return removed;
  } catch (const std::exception& e) {
    // The next round tries again; expired rows only take room meanwhile.
    spdlog::warn("purging expired tokens failed: {}", e.what());
    return 0;
  }
}

}  // namespace portico::keymanager

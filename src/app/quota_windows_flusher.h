#pragma once
// Day and month quotas of an all-in-one node survive a restart: the in-process gateway's long
// windows (an hour or longer) are written to the node's database every `interval` and once
// more on stop, and read back at start, before the gateway serves. The gateway has no
// database by design; the node, which has one, does this for it on a thread of its own.
// Shorter windows are not kept: a restart costs a caller at most one minute's count.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

#include "store/quota_windows_repository.h"

namespace portico::traffic {
class Throttler;
}

namespace portico {

class QuotaWindowsFlusher {
 public:
  QuotaWindowsFlusher(store::Database& db, traffic::Throttler& throttler,
                      std::chrono::seconds interval)
      : rows_(db), throttler_(throttler), interval_(interval) {}
  ~QuotaWindowsFlusher() { stop(); }
  QuotaWindowsFlusher(const QuotaWindowsFlusher&) = delete;
  QuotaWindowsFlusher& operator=(const QuotaWindowsFlusher&) = delete;

  // Adds the stored counts of windows still open to the throttler; returns how many. A
  // database that fails is logged and the counts start from zero (the node still serves).
  std::size_t restore();
  // Flushes every `interval` from now on.
  void start();
  // Ends the thread and flushes once more (the node has stopped serving by then). Later calls
  // do nothing.
  void stop();
  // Writes the current long windows and deletes those that ended; false when the database
  // failed (logged; the next round writes the counts again).
  bool flush_once();

 private:
  store::QuotaWindowsRepository rows_;
  traffic::Throttler& throttler_;
  std::chrono::seconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace portico

#pragma once
// Deletes expired authorization codes, tokens and revocation records, and sign-in failure
// counts that no longer matter: once at start, then every `interval`, on a thread of its own. Every
// node of a cluster runs one; the deletions are serialised in the database, so nodes running them
// at once do not conflict.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "store/login_failures_repository.h"
#include "store/tokens_repository.h"

namespace portico::keymanager {

class Purger {
 public:
  // Failure counts quiet for longer than `failures_kept` (the longest back-off) and not
  // locked go.
  Purger(store::Database& db, std::chrono::seconds interval, std::chrono::seconds failures_kept)
      : tokens_(db), login_failures_(db), interval_(interval), failures_kept_(failures_kept) {}
  ~Purger() { stop(); }
  Purger(const Purger&) = delete;
  Purger& operator=(const Purger&) = delete;

  void start();
  // Ends the thread (a purge under way finishes first).
  void stop();
  // One purge now; returns the rows removed (0 when the database failed, which is logged).
  int purge_once();

 private:
  store::TokensRepository tokens_;
  store::LoginFailuresRepository login_failures_;
  std::chrono::seconds interval_;
  std::chrono::seconds failures_kept_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace portico::keymanager

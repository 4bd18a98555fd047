#pragma once
// The gateway's current configuration: one Snapshot and one RevokedTokens, each replaced
// whole (never modified) by the loader and read by every I/O thread.
//
// The pattern that keeps the request path lock-free:
//   - the loader calls publish(), which swaps the pointers under a mutex and then bumps an
//     atomic generation;
//   - each I/O thread keeps a SnapshotReader (thread-local copies of both pointers) and calls
//     refresh() once per request (or per loop turn): a relaxed load of the generation, and
//     only when it changed, one locked copy of the pointers. Publishing is rare (configuration
//     changes, revocations), so the mutex is taken about once per thread per change, never
//     per request. A relaxed load is enough: a thread that sees a new generation takes the
//     mutex, which orders it after the publish; one that sees the old value keeps serving the
//     previous snapshot for one more request, which is allowed.
//   - the reader that held an old snapshot last does not free it on its I/O thread: after a
//     full pull that is a whole configuration (tens of megabytes of small allocations at
//     10,000 APIs). It hands it to the store's disposer (the control-plane worker) instead,
//     and it lets go of it outside the store's lock in any case.
//   - a request that keeps string_views into the snapshot across an asynchronous step holds
//     its own copy of the shared_ptr (a refcount increment, no lock), since the thread's copy
//     may be replaced by the next request's refresh().
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "gateway/snapshot.h"

namespace portico::gateway {

class SnapshotStore {
 public:
  // Starts with an empty snapshot (version 0, no APIs) and no revocations, not ready().
  SnapshotStore();

  // Locked copies: for code off the request path and for SnapshotReader::refresh().
  std::shared_ptr<const Snapshot> snapshot() const;
  std::shared_ptr<const RevokedTokens> revoked() const;
  // Increases with every publish (of either pointer).
  std::uint64_t generation() const { return generation_.load(std::memory_order_relaxed); }
  // True once a snapshot built from real data (pulled or read from the snapshot file) has
  // been published: until then the gateway has no routes and answers 503.
  bool ready() const { return ready_.load(std::memory_order_acquire); }

  // Both pointers and the generation they belong to, read together under the lock.
  std::uint64_t load(std::shared_ptr<const Snapshot>& snapshot,
                     std::shared_ptr<const RevokedTokens>& revoked) const;

  // Replace one or both; a null pointer leaves that one as it is.
  void publish(std::shared_ptr<const Snapshot> snapshot,
               std::shared_ptr<const RevokedTokens> revoked);
  void publish(std::shared_ptr<const Snapshot> snapshot) { publish(std::move(snapshot), nullptr); }
  void publish(std::shared_ptr<const RevokedTokens> revoked) {
    publish(nullptr, std::move(revoked));
  }

  // Frees what it is given on another thread (see the pattern above). Set it before any
  // SnapshotReader exists; without one, readers free old snapshots themselves.
  using Disposer = std::function<void(std::shared_ptr<const void>)>;
  void set_disposer(Disposer disposer) { disposer_ = std::move(disposer); }
  // A reader's previous pointer: to the disposer when it is the last reference, else dropped.
  void dispose(std::shared_ptr<const void> held) const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::shared_ptr<const RevokedTokens> revoked_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> ready_{false};
  Disposer disposer_;
};

// One I/O thread's view of the store (see the pattern above). Not thread-safe: one per thread.
class SnapshotReader {
 public:
  explicit SnapshotReader(const SnapshotStore& store);

  // Picks up a newer publish, if any; otherwise costs one relaxed atomic load.
  void refresh() {
    if (store_.generation() != generation_) reload();
  }
  const std::shared_ptr<const Snapshot>& snapshot() const { return snapshot_; }
  const std::shared_ptr<const RevokedTokens>& revoked() const { return revoked_; }

 private:
  void reload();

  const SnapshotStore& store_;
  std::uint64_t generation_ = 0;
  std::shared_ptr<const Snapshot> snapshot_;
  std::shared_ptr<const RevokedTokens> revoked_;
};

}  // namespace portico::gateway

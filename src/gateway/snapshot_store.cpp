#include "gateway/snapshot_store.h"

#include <utility>

namespace portico::gateway {

SnapshotStore::SnapshotStore()
    : snapshot_(std::make_shared<const Snapshot>()),
      revoked_(std::make_shared<const RevokedTokens>()) {}

std::shared_ptr<const Snapshot> SnapshotStore::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

std::shared_ptr<const RevokedTokens> SnapshotStore::revoked() const {
  std::lock_guard lock(mutex_);
  return revoked_;
}

void SnapshotStore::publish(std::shared_ptr<const Snapshot> snapshot,
                            std::shared_ptr<const RevokedTokens> revoked) {
  if (!snapshot && !revoked) return;
  // The previous snapshot may be the last reference to a large structure: let it go outside
  // the lock, so that readers never wait for its destruction.
  std::shared_ptr<const Snapshot> old_snapshot;
  std::shared_ptr<const RevokedTokens> old_revoked;
  {
    std::lock_guard lock(mutex_);
    if (snapshot) {
      old_snapshot = std::exchange(snapshot_, std::move(snapshot));
      ready_.store(true, std::memory_order_release);
    }
    if (revoked) old_revoked = std::exchange(revoked_, std::move(revoked));
    // Bumped under the lock so that load() returns pointers and their generation as a pair.
    generation_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::uint64_t SnapshotStore::load(std::shared_ptr<const Snapshot>& snapshot,
                                  std::shared_ptr<const RevokedTokens>& revoked) const {
  std::lock_guard lock(mutex_);
  snapshot = snapshot_;
  revoked = revoked_;
  return generation_.load(std::memory_order_relaxed);
}

SnapshotReader::SnapshotReader(const SnapshotStore& store) : store_(store) {
  reload();
}

void SnapshotStore::dispose(std::shared_ptr<const void> held) const {
  // A count of one cannot grow: nobody else holds the pointer to copy it from. A count of two
  // read while another reader lets go is a rare miss, freed here.
  if (held && held.use_count() == 1 && disposer_) disposer_(std::move(held));
}

void SnapshotReader::reload() {
  std::shared_ptr<const Snapshot> snapshot;
  std::shared_ptr<const RevokedTokens> revoked;
  generation_ = store_.load(snapshot, revoked);
  std::swap(snapshot, snapshot_);
  std::swap(revoked, revoked_);
  store_.dispose(std::move(snapshot));
  store_.dispose(std::move(revoked));
}

}  // namespace portico::gateway

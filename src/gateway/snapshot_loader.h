#pragma once
// Keeps the SnapshotStore in step with the control plane: a full pull of the internal data
// API at start-up, a debounced re-pull after every configuration event, a periodic resync
// (events can be lost: Redis restarts, network partitions), and revocations applied within
// milliseconds of their event. Every successful pull is also written to the snapshot file,
// from which a gateway restarted while the control plane is down serves its last-known
// configuration.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "events/event_bus.h"
#include "gateway/control_plane.h"
#include "gateway/snapshot_builder.h"
#include "gateway/snapshot_store.h"

namespace portico::gateway {

struct LoaderOptions {
  std::string environment;    // the gateway environment whose runtime artifacts are pulled
  std::string snapshot_file;  // last-known configuration (JSON); "" keeps none
  int debounce_ms = 100;      // events within this window share one re-pull
  int resync_seconds = 300;   // full re-pull even without events; 0 disables it
  // Called (on the thread that delivered it) for `user.deleted` and `user.updated` (a changed
  // password or roles), which concern the authenticator's caches, not the snapshot. Optional.
  std::function<void(const events::Event&)> on_user_deleted;
};

class SnapshotLoader {
 public:
  // Pulls run on `worker`; the loader also owns one timer thread (debounce, resync,
  // backoff), which does no blocking work itself. All references must outlive the loader.
  SnapshotLoader(LoaderOptions options, ControlPlane& control_plane, ControlPlaneWorker& worker,
                 SnapshotStore& store);
  ~SnapshotLoader();
  SnapshotLoader(const SnapshotLoader&) = delete;
  SnapshotLoader& operator=(const SnapshotLoader&) = delete;

  // Blocking: one full pull, run on the worker (never call it from the worker). On failure,
  // loads the snapshot file instead. True when the store holds a configuration afterwards
  // (pulled or from the file). Either way, failed pulls are retried with backoff.
  bool load_initial();

  // From any thread, returns at once: revocations are applied immediately, user.deleted and
  // user.updated are forwarded, anything else schedules a debounced re-pull.
  void on_event(const events::Event& event);
  // The event log could not deliver every event since this gateway's position (a gap, a
  // new epoch, Redis back after too long): pull everything now.
  void on_log_reset();

  // Schedules a re-pull now (no debounce) and waits for it; true when it published. Tests.
  bool refresh_now();

  // Counts since the loader started (for logs, metrics and tests).
  struct Stats {
    std::uint64_t pulls_ok = 0;
    std::uint64_t pulls_failed = 0;
    std::uint64_t snapshots_published = 0;
    std::uint64_t revocations_applied = 0;
    bool loaded_from_file = false;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace portico::gateway

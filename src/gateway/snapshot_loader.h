#pragma once
// Keeps the SnapshotStore in step with the control plane: a full pull of the internal data
// API at start-up; after an event, a per-item re-read of what it names (an application with
// its keys and subscriptions, an API's runtime artifact, the policy lists) patched into the
// live snapshot at the cost of that item; a periodic resync (events can be lost: Redis
// restarts, network partitions); and revocations applied within milliseconds of their event.
// The snapshot file follows every pull and patch (written at most every
// snapshot_write_seconds); a gateway restarted while the control plane is down serves its
// last-known configuration from it.
#include <boost/json/value.hpp>

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
  std::string environment;         // the gateway environment whose runtime artifacts are pulled
  std::string snapshot_file;       // last-known configuration (JSON); "" keeps none
  int debounce_ms = 100;           // events within this window share one re-pull
  int resync_seconds = 300;        // full re-pull even without events; 0 disables it
  int snapshot_write_seconds = 5;  // changes reach the snapshot file at most this often
  // Accept a pull from another cluster id, or one without any API while the gateway has
  // some (gateway.force_snapshot). Off: such a pull is refused, logged and counted.
  bool force_snapshot = false;
  std::string issuer;  // recorded in the snapshot file
  // The JWKS document to record in the snapshot file, and where the file's goes when the
  // gateway serves from it (the key manager may be down too). Optional.
  std::function<std::string()> current_jwks;
  std::function<void(const std::string&)> on_file_jwks;
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
  // user.updated are forwarded, an event about an application (its keys, its subscriptions),
  // an API or a policy re-reads that item alone and patches it in; anything else, or a
  // re-read that fails, schedules a debounced full pull.
  void on_event(const events::Event& event);
  // The event log could not deliver every event since this gateway's position (a gap, a
  // new epoch, Redis back after too long): pull everything now.
  void on_log_reset(const events::LogPosition& position = {});
  // The last event position seen (or read from the snapshot file), recorded in the file.
  events::LogPosition position() const;

  // What a per-item read found about one application (MissLookup): `record`, parsed from
  // `bundle` (the read's body, which the snapshot file records), patched into the live snapshot
  // at once. Call on the worker, where pulls run, so that a pull and a patch never interleave.
  // Does nothing before the first snapshot is loaded.
  void apply_application(const ApplicationRecord& record, const boost::json::value& bundle);

  // Schedules a re-pull now (no debounce) and waits for it and for its snapshot file; true
  // when it published. Tests.
  bool refresh_now();

  // Counts since the loader started (for logs, metrics and tests).
  struct Stats {
    std::uint64_t pulls_ok = 0;
    std::uint64_t pulls_failed = 0;
    std::uint64_t snapshots_published = 0;
    std::uint64_t revocations_applied = 0;
    std::uint64_t patches_applied = 0;
    std::uint64_t snapshots_refused = 0;  // pulls refused (another cluster, no API left)
    bool loaded_from_file = false;
  };
  Stats stats() const;
  // Refused pulls and whether the file is being served, in Prometheus text format.
  std::string metrics_text() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace portico::gateway

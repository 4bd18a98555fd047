#pragma once
// Analytics: one event per API call from the gateway's I/O threads, per-minute rollups in the
// database, an optional JSON-lines file, Prometheus metrics and the portals' query API.
//
// The request path only queues: record() puts the event into a bounded single-producer /
// single-consumer ring owned by the calling thread. A flusher thread drains the rings, keeps
// the metrics and writes the file; a writer thread upserts the rollups and spills them to disk
// when the database fails. Nothing here blocks, throws or takes a shared lock on that path.
//
// A gateway without database sends its rollups to the control plane instead, in batches
// (POST /internal/data/v1/analytics/batches), each under an id that a re-send keeps, so that
// the control plane adds a batch once; while the control plane is unreachable or failing, the
// batches wait on disk and go, oldest first, when it answers again.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace portico::http {
class Router;
}
namespace portico::keymanager {
class KeyManager;
}
namespace portico::store {
class Database;
}

namespace portico::analytics {

// One API call as the reference's analytics records it.
struct Event {
  std::string api_id, api_name, api_version, api_context, api_method, api_resource_template,
      api_creator, application_id, application_name, application_owner, key_type, user_name,
      user_ip, user_agent, correlation_id,
      error_type;  // "AUTH", "THROTTLED", "TARGET_CONNECTIVITY", "OTHER"; empty if none
  int proxy_response_code = 0;   // what the client got
  int target_response_code = 0;  // what the backend answered; 0 when not reached
  long error_code = 0;           // the reference's code (900901, 900804, 101503...), 0 if none
  std::int64_t response_latency_ms = 0, backend_latency_ms = 0, request_mediation_latency_ms = 0,
               response_mediation_latency_ms = 0;
  std::int64_t request_timestamp_ms = 0;  // unix ms when the request arrived
  std::int64_t request_bytes = 0, response_bytes = 0;

  // Back to a new event's values, keeping the strings' memory (an event reused in place).
  void clear();
};

// What the control plane answered a batch: its HTTP status; 0 when it could not be reached.
// 2xx: stored (or stored before); 400, 413, 422: refused for good (the batch is set aside);
// anything else: try again later.
struct ShipResult {
  int status = 0;
};

// Sends one batch: POST /internal/data/v1/analytics/batches, `body` as application/json, with
// the internal-API credential. `batch_id` is also in the body (for logs). Runs on the
// Recorder's writer thread, one call at a time; it may block (bounded by its own timeouts).
using BatchSender = std::function<ShipResult(std::string_view batch_id, std::string_view body)>;

struct Options {
  std::string data_dir;               // spill files go to <data_dir>/analytics-spill/
  std::size_t queue_capacity = 8192;  // events per I/O thread (each slot ~600 bytes)
  int flush_interval_ms = 1000;       // how often rollups go to the database
  // How often the flusher drains the per-thread queues. A queue must hold one interval's
  // events of its thread, so this, not flush_interval_ms, sets the rate that drops begin at
  // (8192 per 20 ms: ~400,000 requests a second per thread).
  int drain_interval_ms = 20;
  std::string file_sink_path;  // empty: no JSON-lines file
  bool database_sink = true;   // per-minute rollups into the database
  // This node's name in rollups (so in the query API), file lines and every metric. Empty:
  // the host name.
  std::string node_id;
  // Set on a gateway without database: the rollups go to the control plane through it, and
  // not to the database.
  BatchSender ship;
  // The spill directory's bound: beyond it the oldest files are removed (and counted).
  std::uint64_t max_spill_bytes = 256ull * 1024 * 1024;
};

// Takes events from any thread, and turns them into rollups, file lines and metrics.
class Recorder {
 public:
  // `db` may be null (a gateway without database): then the rollups go to `options.ship`, or
  // nowhere when that is not set.
  Recorder(Options options, store::Database* db);
  // Stops (flushing what is queued, into the database) when still running: destroy or stop
  // the Recorder before the Database. Threads that record must be done recording before the
  // Recorder goes away.
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Starts the flusher and writer threads. Throws std::runtime_error when the file sink or the
  // spill directory cannot be opened.
  void start();
  // Drains the queues, writes the rollups (or spills them), then stops the threads. Called at
  // shutdown; safe to call more than once.
  void stop();

  // Any thread; never blocks, never throws, never allocates beyond moving the event in (the
  // first call on a thread registers that thread's queue, see prepare_thread()). Drops the
  // event, counted, when the thread's queue is full.
  void record(Event&& event) noexcept;
  // The same, filled in place: `fill` gets the queue slot's event, which holds an earlier
  // event whose strings keep their memory (a steady stream of events allocates nothing), and
  // must set every field it means, after Event::clear(). Dropped, counted, when the queue is
  // full or `fill` throws.
  void record_in_place(const std::function<void(Event&)>& fill) noexcept;
  // Registers the calling thread's queue now, so that the first record() on this thread does
  // not allocate. Optional: an I/O thread may call it once when it starts.
  void prepare_thread();

  // Events dropped because a queue was full, since construction.
  std::uint64_t dropped() const;
  // The gateway's runtime snapshot version, exposed as a gauge.
  void set_snapshot_version(std::uint64_t version);
  // The metrics in the Prometheus text exposition format 0.0.4. Any thread.
  std::string prometheus_text() const;
  // Metrics that other components of this node keep, with this node's node_id label added to
  // every sample, so that /metrics carries it throughout.
  std::string with_node_label(std::string_view prometheus_text) const;

  // Drains the queues and writes or sends the rollups synchronously (replaying spill files
  // first). For tests and for stop().
  void flush_now();

  // Spill files waiting for the database or the control plane (for the status route and
  // tests).
  std::size_t pending_spill_files() const;
  const Options& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// GET /api/am/analytics/v1/{requests,errors,throttled,latency,status} for the portals'
// dashboards. Callers holding apim:api_view or apim:admin see every row; callers holding only
// apim:subscribe see the rows of applications they own. Also POST
// /internal/data/v1/analytics/batches, where gateways without database send their rollups
// (the internal-API credential of [internal_api]).
void register_routes(http::Router& router, Recorder& recorder, keymanager::KeyManager& km,
                     store::Database& db);

}  // namespace portico::analytics

#pragma once
// Analytics: one event per API call from the gateway's I/O threads, per-minute rollups in the
// database, an optional JSON-lines file, Prometheus metrics and the portals' query API.
//
// The request path only queues: record() puts the event into a bounded single-producer /
// single-consumer ring owned by the calling thread. A flusher thread drains the rings, keeps
// the metrics and writes the file; a writer thread upserts the rollups and spills them to disk
// when the database fails. Nothing here blocks, throws or takes a shared lock on that path.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

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
};

// Takes events from any thread, and turns them into rollups, file lines and metrics.
class Recorder {
 public:
  // `db` may be null (a gateway without database): then there are no rollups.
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

  // Drains the queues and writes the rollups synchronously (replaying spill files first).
  // For tests and for stop().
  void flush_now();

  // Spill files waiting for the database (for the status route and tests).
  std::size_t pending_spill_files() const;
  const Options& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// GET /api/am/analytics/v1/{requests,errors,throttled,latency,status} for the portals'
// dashboards. Callers holding apim:api_view or apim:admin see every row; callers holding only
// apim:subscribe see the rows of applications they own.
void register_routes(http::Router& router, Recorder& recorder, keymanager::KeyManager& km,
                     store::Database& db);

}  // namespace portico::analytics

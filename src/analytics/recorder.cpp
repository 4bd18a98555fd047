// The Recorder: per-thread queues in, a flusher thread draining them into metrics, the file
// sink and pending rollups, a writer thread moving the rollups to the database or the control
// plane, or to disk while neither takes them.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "analytics/analytics.h"
#include "analytics/analytics_repository.h"
#include "analytics/batch.h"
#include "analytics/event_json.h"
#include "analytics/metrics.h"
#include "analytics/rollup.h"
#include "analytics/spill.h"
#include "analytics/spsc_ring.h"
#include "common/clock.h"
#include "common/log.h"
#include "store/database.h"

namespace portico::analytics {
namespace {

// A spill file holds at most this many rollups (a batch sent to the control plane at most
// kMaxBatchRollups), so that a long outage neither rewrites one huge file every interval nor
// holds it all in memory.
constexpr std::size_t kMaxOutageRows = 10'000;
// The longest wait between two write attempts while the database fails.
constexpr int kMaxBackoffMs = 30'000;

std::atomic<std::uint64_t> next_recorder_id{1};

// One I/O thread's queue for one Recorder. Shared by the Recorder's registry and the thread's
// cache, so that either may go first.
struct ThreadQueue {
  explicit ThreadQueue(std::size_t capacity) : ring(capacity) {}
  SpscRing<Event> ring;
  std::atomic<bool> thread_gone{false};    // the producer exited: drain once more, then retire
  std::atomic<bool> recorder_gone{false};  // the Recorder is destroyed: the cache may drop it
};

// The calling thread's queues, one per Recorder it recorded into. Looked up by the Recorder's
// id (never reused) rather than its address, which a later Recorder may get.
struct ThreadCache {
  std::vector<std::pair<std::uint64_t, std::shared_ptr<ThreadQueue>>> entries;
  ~ThreadCache() {
    for (auto& [id, queue] : entries) queue->thread_gone.store(true, std::memory_order_release);
  }
};
thread_local ThreadCache thread_cache;

// The control plane will never take this batch: sending it again would fail again.
struct BatchRefused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// `rollups` cut into maps of at most `max_rows` rows each, in key order.
std::vector<RollupMap> chunks_of(RollupMap rollups, std::size_t max_rows) {
  std::vector<RollupMap> out;
  while (!rollups.empty()) {
    RollupMap chunk;
    while (!rollups.empty() && chunk.size() < max_rows)
      chunk.insert(rollups.extract(rollups.begin()));
    out.push_back(std::move(chunk));
  }
  return out;
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct Recorder::Impl {
  Impl(Options options, store::Database* db)
      : options(std::move(options)),
        db(db),
        id(next_recorder_id.fetch_add(1)),
        spill(std::filesystem::path(this->options.data_dir.empty() ? "." : this->options.data_dir) /
              "analytics-spill"),
        random(std::random_device{}()) {
    if (this->options.queue_capacity == 0) this->options.queue_capacity = 1;
    if (this->options.flush_interval_ms <= 0) this->options.flush_interval_ms = 1000;
    if (this->options.drain_interval_ms <= 0) this->options.drain_interval_ms = 20;
    if (this->options.node_id.empty()) this->options.node_id = host_name();
    metrics.set_node_id(this->options.node_id);
    shipping = static_cast<bool>(this->options.ship);
    if (!shipping && db != nullptr && this->options.database_sink) repository.emplace(*db);
    max_batch_rows = shipping ? kMaxBatchRollups : kMaxOutageRows;
  }

  // Rollups go somewhere: to the database or to the control plane.
  bool rollups_enabled() const { return repository.has_value() || shipping; }
  const char* sink_name() const { return shipping ? "the control plane" : "the database"; }

  // --- the record path ---

  SpscRing<Event>* queue_for_this_thread() noexcept {
    for (auto& [queue_owner, queue] : thread_cache.entries)
      if (queue_owner == id) return &queue->ring;
    try {
      auto& entries = thread_cache.entries;
      std::erase_if(entries, [](const auto& entry) {
        return entry.second->recorder_gone.load(std::memory_order_acquire);
      });
      entries.reserve(entries.size() + 1);  // so that emplace_back below cannot throw
      auto queue = std::make_shared<ThreadQueue>(options.queue_capacity);
      {
        std::lock_guard lock(queues_mutex);
        queues.push_back(queue);
      }
      entries.emplace_back(id, queue);
      return &entries.back().second->ring;
    } catch (...) {
      return nullptr;
    }
  }

  // --- the flusher: the queues' single consumer ---

  void drain() {
    std::lock_guard drain_lock(drain_mutex);
    std::vector<std::shared_ptr<ThreadQueue>> snapshot;
    {
      std::lock_guard lock(queues_mutex);
      snapshot = queues;
    }
    // Events are read where they lie in the rings (their slots keep the strings' memory for
    // the producers' next events), so all their uses happen here, queue by queue.
    const std::int64_t now = unix_ms_now();
    RollupMap local;
    RollupAccumulator rollup(local, options.node_id);
    lines.clear();
    std::size_t count = 0;
    for (const auto& queue : snapshot) {
      // Read before draining: when the thread had exited, everything it pushed is visible.
      const bool gone = queue->thread_gone.load(std::memory_order_acquire);
      {
        std::lock_guard lock(metrics_mutex);
        count += queue->ring.consume([&](Event& e) {
          if (e.request_timestamp_ms <= 0) e.request_timestamp_ms = now;
          metrics.observe(e);
          if (file != nullptr) {
            lines += event_json_line(e, options.node_id);
            lines += '\n';
          }
          if (rollups_enabled()) rollup.add(e);
        });
      }
      if (gone) retire(queue);
    }
    if (count == 0) return;
    {
      std::lock_guard lock(metrics_mutex);
      events += count;
    }
    if (file != nullptr) write_lines();
    if (rollups_enabled()) {
      std::lock_guard lock(pending_mutex);
      merge(pending, local);
    }
  }

  void retire(const std::shared_ptr<ThreadQueue>& queue) {
    std::lock_guard lock(queues_mutex);
    retired_drops += queue->ring.dropped();
    std::erase(queues, queue);
  }

  void write_lines() {
    bool ok = std::fwrite(lines.data(), 1, lines.size(), file) == lines.size();
    ok = std::fflush(file) == 0 && ok;
    if (!ok && file_ok) spdlog::error("analytics: cannot write to {}", options.file_sink_path);
    if (ok && !file_ok) spdlog::info("analytics: writing to {} again", options.file_sink_path);
    file_ok = ok;
  }

  // --- the writer: rollups to the database, or to disk ---

  std::string new_batch_id() {
    char id_text[64];
    std::snprintf(id_text, sizeof id_text, "%013lld-%06llu-%08x",
                  static_cast<long long>(unix_ms_now()),
                  static_cast<unsigned long long>(++batch_sequence % 1'000'000),
                  static_cast<unsigned>(random()));
    return id_text;
  }

  // `force`: try the database even while backing off (flush_now, stop).
  void write(bool force) {
    std::lock_guard write_lock(write_mutex);
    if (!rollups_enabled()) return;
    if (!spill_opened) {
      try {
        spill.open();
        spill_opened = true;
      } catch (const std::exception& e) {
        spdlog::error("analytics: {}", e.what());
      }
    }
    RollupMap rollups;
    {
      std::lock_guard lock(pending_mutex);
      rollups.swap(pending);
    }
    const auto now = std::chrono::steady_clock::now();
    if (!force && now < next_attempt) {
      if (!rollups.empty()) keep_on_disk(rollups);
    } else {
      attempt(rollups);
    }
    spill_files.store(spill.list().size(), std::memory_order_relaxed);
  }

  // One batch to the database or the control plane. Throws BatchRefused when the control
  // plane refuses it for good, another exception when it may take it later.
  void deliver(const std::string& batch_id, const RollupMap& rollups) {
    if (!shipping) {
      repository->add_batch(batch_id, rollups, unix_now());
      return;
    }
    const ShipResult result =
        options.ship(batch_id, batch_json(batch_id, options.node_id, rollups));
    if (result.status >= 200 && result.status < 300) return;
    if (result.status == 400 || result.status == 413 || result.status == 422)
      throw BatchRefused("the control plane refused batch " + batch_id + " (HTTP " +
                         std::to_string(result.status) + ")");
    if (result.status == 0) throw std::runtime_error("the control plane cannot be reached");
    throw std::runtime_error("the control plane answered HTTP " + std::to_string(result.status));
  }

  void refused(const BatchRefused& e) {
    refused_batches.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("analytics: {}; its rollups are dropped", e.what());
  }

  // Replays the spill files, oldest first, then writes `rollups`. Each batch is one
  // transaction that also records its id, so that a batch whose commit went through but
  // whose answer was lost is not added twice when its file is replayed.
  void attempt(RollupMap& rollups) {
    seal_outage_file(rollups);
    try {
      for (const std::string& batch_id : spill.list()) {
        auto stored = spill.read(batch_id);
        if (!stored) {
          spdlog::error("analytics: {}/{}.jsonl does not parse; renamed to .bad",
                        spill.dir().string(), batch_id);
          spill.quarantine(batch_id);
          continue;
        }
        try {
          deliver(batch_id, *stored);
        } catch (const BatchRefused& e) {
          refused(e);
          spill.quarantine(batch_id);
          continue;
        }
        spill.remove(batch_id);
      }
    } catch (const std::exception& e) {
      // `rollups` never reached the database: they may join the outage file.
      failed(e);
      if (!rollups.empty()) keep_on_disk(rollups);
      return;
    }
    std::vector<RollupMap> batches = chunks_of(std::move(rollups), max_batch_rows);
    for (std::size_t i = 0; i < batches.size(); ++i) {
      const std::string batch_id = new_batch_id();
      try {
        deliver(batch_id, batches[i]);
      } catch (const BatchRefused& e) {
        refused(e);
      } catch (const std::exception& e) {
        failed(e);
        // Possibly committed (the answer may be what was lost): a file of its own, under its
        // own id, never merged with others. The batches after it were never sent.
        spill_batch(batch_id, batches[i]);
        for (std::size_t j = i + 1; j < batches.size(); ++j)
          spill_batch(new_batch_id(), batches[j]);
        trim_spill();
        return;
      }
    }
    succeeded();
  }

  void spill_batch(const std::string& batch_id, const RollupMap& rollups) {
    try {
      spill.write(batch_id, rollups);
    } catch (const std::exception& io) {
      spdlog::error("analytics: {}; the rollups stay in memory", io.what());
      merge(unwritten, rollups);
    }
  }

  // While the database or control plane is down: add `rollups` to the current outage file
  // (rewritten whole). Its rollups were never sent, so merging them is safe.
  void keep_on_disk(const RollupMap& rollups) {
    merge(outage_rows, rollups);
    if (!outage_batch) outage_batch = new_batch_id();
    std::vector<RollupMap> files = chunks_of(outage_rows, max_batch_rows);
    // The first part replaces the outage file; more than one part closes it.
    try {
      spill.write(*outage_batch, files.front());
      outage_dirty = false;
    } catch (const std::exception& e) {
      if (!outage_dirty) spdlog::error("analytics: {}; the rollups stay in memory", e.what());
      outage_dirty = true;
      return;
    }
    if (files.size() > 1 || outage_rows.size() >= max_batch_rows) {
      for (std::size_t i = 1; i < files.size(); ++i) spill_batch(new_batch_id(), files[i]);
      outage_rows.clear();
      outage_batch.reset();
    }
    trim_spill();
  }

  // Keeps the spill directory within its bound, dropping the oldest batches (never the open
  // outage file).
  void trim_spill() {
    auto removed = spill.trim_to(options.max_spill_bytes, outage_batch.value_or(std::string()));
    if (removed.empty()) return;
    spill_dropped.fetch_add(removed.size(), std::memory_order_relaxed);
    spdlog::error("analytics: the spill directory {} is over {} bytes; dropped {} oldest batches",
                  spill.dir().string(), options.max_spill_bytes, removed.size());
  }

  // Before an attempt: the outage file becomes an ordinary spill file (replayed by id). What
  // could not be written to disk goes with `rollups` instead.
  void seal_outage_file(RollupMap& rollups) {
    if (outage_dirty) {
      merge(rollups, outage_rows);
      if (outage_batch) spill.remove(*outage_batch);  // an older, smaller version
      outage_dirty = false;
    }
    if (!unwritten.empty()) {
      merge(rollups, unwritten);
      unwritten.clear();
    }
    outage_rows.clear();
    outage_batch.reset();
  }

  void failed(const std::exception& e) {
    write_failures.fetch_add(1, std::memory_order_relaxed);
    backoff_ms = std::min(kMaxBackoffMs, std::max(options.flush_interval_ms, backoff_ms * 2));
    next_attempt = std::chrono::steady_clock::now() + std::chrono::milliseconds(backoff_ms);
    if (database_ok) {
      spdlog::warn("analytics: rollups cannot reach {} ({}); spilling to {}", sink_name(), e.what(),
                   spill.dir().string());
    }
    database_ok = false;
  }

  void succeeded() {
    if (!database_ok) spdlog::info("analytics: rollups reach {} again", sink_name());
    database_ok = true;
    backoff_ms = 0;
    next_attempt = {};
  }

  // --- threads ---

  template <class Step>
  void loop(int interval_ms, Step step) {
    std::unique_lock lock(state_mutex);
    while (!stopping) {
      state_changed.wait_for(lock, std::chrono::milliseconds(interval_ms));
      if (stopping) break;
      lock.unlock();
      try {
        step();
      } catch (const std::exception& e) {
        spdlog::error("analytics: {}", e.what());
      }
      lock.lock();
    }
  }

  std::uint64_t dropped() const {
    std::lock_guard lock(queues_mutex);
    std::uint64_t total = retired_drops + registration_drops.load(std::memory_order_relaxed);
    for (const auto& queue : queues) total += queue->ring.dropped();
    return total;
  }

  Options options;
  store::Database* db;
  const std::uint64_t id;

  // Queues: taken on a thread's first record() and by readers, never on later record()s.
  mutable std::mutex queues_mutex;
  std::vector<std::shared_ptr<ThreadQueue>> queues;
  std::uint64_t retired_drops = 0;  // of queues whose thread exited
  std::atomic<std::uint64_t> registration_drops{0};

  // Flusher (or flush_now): the single consumer.
  std::mutex drain_mutex;
  std::string lines;  // the JSON lines of one drain (the flusher's)
  std::FILE* file = nullptr;
  bool file_ok = true;

  // Flusher and scraper.
  mutable std::mutex metrics_mutex;
  Metrics metrics;
  std::uint64_t events = 0;

  // Flusher to writer.
  std::mutex pending_mutex;
  RollupMap pending;

  // Writer (or flush_now).
  std::mutex write_mutex;
  std::optional<AnalyticsRepository> repository;
  bool shipping = false;  // to the control plane through options.ship
  std::size_t max_batch_rows = kMaxOutageRows;
  SpillStore spill;
  bool spill_opened = false;
  RollupMap outage_rows;
  std::optional<std::string> outage_batch;
  bool outage_dirty = false;
  RollupMap unwritten;  // rollups neither the database nor the disk took
  int backoff_ms = 0;
  std::chrono::steady_clock::time_point next_attempt{};
  bool database_ok = true;
  std::uint64_t batch_sequence = 0;
  std::mt19937 random;
  std::atomic<std::uint64_t> write_failures{0};
  std::atomic<std::uint64_t> spill_files{0};
  std::atomic<std::uint64_t> spill_dropped{0};
  std::atomic<std::uint64_t> refused_batches{0};

  std::atomic<std::uint64_t> snapshot_version{0};

  std::mutex state_mutex;
  std::condition_variable state_changed;
  bool running = false;
  bool stopping = false;
  std::thread flusher;
  std::thread writer;
};

Recorder::Recorder(Options options, store::Database* db)
    : impl_(std::make_unique<Impl>(std::move(options), db)) {}

Recorder::~Recorder() {
  try {
    stop();
  } catch (const std::exception& e) {
    spdlog::error("analytics: stopping: {}", e.what());
  }
  std::lock_guard lock(impl_->queues_mutex);
  for (auto& queue : impl_->queues) queue->recorder_gone.store(true, std::memory_order_release);
}

void Recorder::start() {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.state_mutex);
    if (impl.running) return;
  }
  if (impl.rollups_enabled()) {
    std::lock_guard lock(impl.write_mutex);
    impl.spill.open();
    impl.spill_opened = true;
    impl.spill_files.store(impl.spill.list().size());
  }
  if (!impl.options.file_sink_path.empty()) {
    std::lock_guard lock(impl.drain_mutex);
    std::filesystem::path path(impl.options.file_sink_path);
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    if (impl.file == nullptr) impl.file = std::fopen(path.c_str(), "ae");
    if (impl.file == nullptr)
      throw std::runtime_error("analytics: cannot open the file sink " + path.string());
  }
  std::lock_guard lock(impl.state_mutex);
  impl.stopping = false;
  impl.running = true;
  impl.flusher =
      std::thread([&impl] { impl.loop(impl.options.drain_interval_ms, [&] { impl.drain(); }); });
  impl.writer = std::thread(
      [&impl] { impl.loop(impl.options.flush_interval_ms, [&] { impl.write(false); }); });
}

void Recorder::stop() {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.state_mutex);
    impl.stopping = true;
  }
  impl.state_changed.notify_all();
  if (impl.flusher.joinable()) impl.flusher.join();
  if (impl.writer.joinable()) impl.writer.join();
  flush_now();
  {
    std::lock_guard lock(impl.drain_mutex);
    if (impl.file != nullptr) {
      std::fclose(impl.file);
      impl.file = nullptr;
    }
  }
  std::lock_guard lock(impl.state_mutex);
  impl.running = false;
}

void Recorder::record(Event&& event) noexcept {
  SpscRing<Event>* ring = impl_->queue_for_this_thread();
  if (ring == nullptr) {
    impl_->registration_drops.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!ring->push(std::move(event))) ring->count_drop();
}

void Recorder::record_in_place(const std::function<void(Event&)>& fill) noexcept {
  SpscRing<Event>* ring = impl_->queue_for_this_thread();
  if (ring == nullptr) {
    impl_->registration_drops.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Event* slot = ring->claim();
  if (slot == nullptr) return ring->count_drop();
  try {
    fill(*slot);
  } catch (...) {
    return ring->count_drop();  // out of memory for a string: the slot is not published
  }
  ring->publish();
}

void Event::clear() {
  // Field by field, so that the strings keep their memory. A field added to Event must be
  // reset here too: the size check below fails to compile until this function is revisited.
  static_assert(sizeof(Event) == 16 * sizeof(std::string) + 2 * sizeof(int) + sizeof(long) +
                                     7 * sizeof(std::int64_t),
                "Event changed: reset the new field in Event::clear()");
  for (std::string* text :
       {&api_id, &api_name, &api_version, &api_context, &api_method, &api_resource_template,
        &api_creator, &application_id, &application_name, &application_owner, &key_type, &user_name,
        &user_ip, &user_agent, &correlation_id, &error_type})
    text->clear();
  proxy_response_code = 0;
  target_response_code = 0;
  error_code = 0;
  response_latency_ms = 0;
  backend_latency_ms = 0;
  request_mediation_latency_ms = 0;
  response_mediation_latency_ms = 0;
  request_timestamp_ms = 0;
  request_bytes = 0;
  response_bytes = 0;
}

void Recorder::prepare_thread() {
  impl_->queue_for_this_thread();
}

std::uint64_t Recorder::dropped() const {
  return impl_->dropped();
}

void Recorder::set_snapshot_version(std::uint64_t version) {
  impl_->snapshot_version.store(version, std::memory_order_relaxed);
}

std::string Recorder::prometheus_text() const {
  RecorderGauges gauges;
  gauges.dropped = impl_->dropped();
  gauges.queue_capacity = impl_->options.queue_capacity;
  gauges.snapshot_version = impl_->snapshot_version.load(std::memory_order_relaxed);
  gauges.write_failures = impl_->write_failures.load(std::memory_order_relaxed);
  gauges.spill_files = impl_->spill_files.load(std::memory_order_relaxed);
  gauges.spill_dropped = impl_->spill_dropped.load(std::memory_order_relaxed);
  gauges.refused_batches = impl_->refused_batches.load(std::memory_order_relaxed);
  std::lock_guard lock(impl_->metrics_mutex);
  gauges.events = impl_->events;
  return impl_->metrics.text(gauges);
}

std::string Recorder::with_node_label(std::string_view prometheus_text) const {
  std::lock_guard lock(impl_->metrics_mutex);
  return impl_->metrics.label_samples(prometheus_text);
}

void Recorder::flush_now() {
  impl_->drain();
  impl_->write(true);
}

std::size_t Recorder::pending_spill_files() const {
  return impl_->spill_files.load(std::memory_order_relaxed);
}

const Options& Recorder::options() const {
  return impl_->options;
}

}  // namespace portico::analytics

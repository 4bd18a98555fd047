#include "gateway/snapshot_loader.h"

#include <boost/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <future>
#include <iterator>
#include <mutex>
#include <set>
#include <thread>

#include "common/log.h"
#include "events/event_types.h"
#include "gateway/snapshot_file.h"
#include "gateway/snapshot_file_writer.h"
#include "gateway/snapshot_patch.h"
#include "gateway/source_index.h"

namespace portico::gateway {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kInternalBase = "/internal/data/v1/";
constexpr int kPageLimit = 1000;
// A control plane that keeps answering "next" forever must not keep a pull going forever:
// 10,000 pages of 1000 is ten million items, far beyond any real list.
constexpr int kMaxPages = 10000;
constexpr auto kFirstBackoff = std::chrono::seconds(1);
constexpr auto kMaxBackoff = std::chrono::seconds(60);
// A revocation without an expiry is kept this long (tokens outlive it rarely, and a later
// pull brings it back if the control plane still lists it).
constexpr std::int64_t kDefaultRevocationSeconds = 24 * 3600;
constexpr std::size_t kMaxWarningsLogged = 50;

std::int64_t unix_now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

std::optional<std::int64_t> int_of(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return std::nullopt;
}

// One list of the internal data API, and where its items go.
struct ListSpec {
  std::string_view path;
  json::array SnapshotSources::*member;  // null: the revoked tokens
  bool per_environment;
  bool policy;  // re-read alone after a policy event
};

const ListSpec kLists[] = {
    {"runtime-artifacts", &SnapshotSources::runtime_artifacts, true, false},
    {"applications", &SnapshotSources::applications, false, false},
    {"application-key-mappings", &SnapshotSources::key_mappings, false, false},
    {"subscriptions", &SnapshotSources::subscriptions, false, false},
    {"policies/subscription", &SnapshotSources::subscription_policies, false, true},
    {"policies/application", &SnapshotSources::application_policies, false, true},
    {"policies/advanced", &SnapshotSources::advanced_policies, false, true},
    {"deny-policies", &SnapshotSources::deny_policies, false, true},
    {"revoked-tokens", nullptr, false, false},
};

}  // namespace

struct SnapshotLoader::Impl : std::enable_shared_from_this<Impl> {
  Impl(LoaderOptions o, ControlPlane& cp, ControlPlaneWorker& w, SnapshotStore& s)
      : options(std::move(o)), control_plane(cp), worker(w), store(s) {
    if (!options.snapshot_file.empty())
      writer = std::make_unique<SnapshotFileWriter>(options.snapshot_file);
  }

  // A pull on the worker, then its file on disk: refresh_now returns once both are done (a
  // gateway's start, load_initial, does not wait for the file).
  bool pull_and_flush() {
    bool ok = run_pull(false);
    if (writer) writer->flush();
    return ok;
  }

  LoaderOptions options;
  ControlPlane& control_plane;
  ControlPlaneWorker& worker;
  SnapshotStore& store;
  EndpointSlots slots;                  // worker thread only (and its own lock)
  std::uint64_t next_version = 1;       // worker thread only
  std::set<std::string> last_warnings;  // worker thread only: log each warning once
  // What the snapshot file records, patched along with the live snapshot. The worker, or the
  // destructor once no work is under way.
  SourceIndex file_sources;
  std::unique_ptr<SnapshotFileWriter> writer;  // null without a snapshot file
  // The cluster the current configuration came from (the snapshot file's, then each accepted
  // pull's); "" while unknown. Worker thread only.
  std::string cluster_id;
  // The snapshot file as read at start-up, before the first pull (which it may veto).
  std::optional<SnapshotFile> file_on_disk;          // worker thread only
  bool file_read = false;                            // worker thread only
  std::optional<Clock::time_point> last_file_write;  // worker thread only

  // Scheduling state, shared by on_event, the timer thread and the worker's tasks.
  std::mutex mutex;
  std::condition_variable wake;
  std::optional<Clock::time_point> due;  // when the next pull should be posted
  bool pull_queued = false;              // posted, not yet started: later events ride on it
  bool pulling = false;
  bool stopping = false;
  Clock::duration backoff{0};
  Stats stats;
  events::LogPosition position;  // the last event seen (its epoch from the last reset)
  // A file write held back by snapshot_write_seconds: due then.
  std::optional<Clock::time_point> file_due;
  std::thread timer;

  // Per-item re-reads queued on the worker ("application:ID", "api:ID", "policies"): later
  // events about the same item ride on the queued one.
  std::set<std::string> reads_queued;  // guarded by `mutex`

  // Serializes read-modify-publish of the revoked tokens (events and pulls).
  std::mutex revoked_mutex;

  bool stopped() {
    std::lock_guard lock(mutex);
    return stopping;
  }

  // Brackets work on the worker that uses the control plane, the store or file_sources: false
  // once the loader is stopping (the destructor waits for work begun).
  bool begin_work() {
    std::lock_guard lock(mutex);
    if (stopping) return false;
    pulling = true;
    return true;
  }
  void end_work() {
    {
      std::lock_guard lock(mutex);
      pulling = false;
    }
    wake.notify_all();
  }

  void schedule(Clock::time_point when) {
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      if (!due || when < *due) due = when;
    }
    wake.notify_all();
  }

  // The timer thread: posts a pull when one is due. Blocking work stays on the worker.
  void timer_loop() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      if (file_due && Clock::now() >= *file_due) {
        file_due.reset();
        std::weak_ptr<Impl> weak = weak_from_this();
        worker.post([weak] {
          if (auto self = weak.lock(); self && self->begin_work()) {
            self->save_file();
            self->end_work();
          }
        });
        continue;
      }
      auto next = due;
      if (file_due && (!next || *file_due < *next)) next = file_due;
      if (!next) {
        wake.wait(lock);
        continue;
      }
      if (Clock::now() < *next) {
        wake.wait_until(lock, *next);
        continue;
      }
      if (!due || Clock::now() < *due) continue;
      due.reset();
      if (pull_queued) continue;
      pull_queued = true;
      std::weak_ptr<Impl> weak = weak_from_this();
      worker.post([weak] {
        if (auto self = weak.lock()) self->run_pull(true);
      });
    }
  }

  // One pull on the worker, with its bookkeeping. Until a configuration is loaded, a failed
  // (or refused) pull falls back to the snapshot file.
  // `queued`: the task the timer posted (while it waits, later events need no other pull).
  bool run_pull(bool queued) {
    {
      std::lock_guard lock(mutex);
      if (stopping) return false;
      if (queued) pull_queued = false;
      pulling = true;
    }
    bool ok = false;
    bool from_file = false;
    try {
      // The file first, whichever pull comes first (load_initial's, or one a log reset
      // asked for): its cluster id and APIs decide whether that pull is accepted.
      if (!file_read && !options.snapshot_file.empty()) {
        file_read = true;
        if (!store.ready()) read_file();
      }
      ok = pull_and_publish();
      if (!ok && !store.ready() && file_on_disk) from_file = publish_file();
      if (store.ready()) file_on_disk.reset();
    } catch (const std::exception& e) {
      // Nothing in a pull should throw; if something does, it is a failed pull, not a dead
      // worker.
      spdlog::error("snapshot pull failed: {}", e.what());
    }
    {
      std::lock_guard lock(mutex);
      pulling = false;
      if (from_file) stats.loaded_from_file = true;
      if (ok) {
        ++stats.pulls_ok;
        ++stats.snapshots_published;
        backoff = Clock::duration::zero();
        if (options.resync_seconds > 0 && !due && !stopping)
          due = Clock::now() + std::chrono::seconds(options.resync_seconds);
      } else {
        ++stats.pulls_failed;
        if (from_file) ++stats.snapshots_published;
        backoff = backoff == Clock::duration::zero()
                      ? Clock::duration(kFirstBackoff)
                      : std::min<Clock::duration>(backoff * 2, kMaxBackoff);
        auto retry = Clock::now() + backoff;
        if (!stopping && (!due || retry < *due)) due = retry;
        spdlog::warn(
            "snapshot pull failed; the gateway keeps its current configuration and "
            "retries in {} s",
            std::chrono::duration_cast<std::chrono::seconds>(backoff).count());
      }
    }
    wake.notify_all();
    return ok || from_file;
  }

  // Every page of one list; false (after logging why) on any failure.
  bool pull_list(const ListSpec& spec, json::array& out) {
    std::string after;
    for (int page = 0; page < kMaxPages; ++page) {
      // A loader being destroyed waits for the pull under way: make that one call, not a
      // whole pull of calls.
      if (stopped()) return false;
      std::string target = std::string(kInternalBase) + std::string(spec.path) +
                           "?limit=" + std::to_string(kPageLimit);
      if (spec.per_environment)
        target += "&environment=" + http::percent_encode(options.environment);
      if (!after.empty()) target += "&after=" + http::percent_encode(after);
      ControlPlaneResponse response = control_plane.call("GET", target, "", "", true);
      if (response.status != 200) {
        if (response.status == 0)
          spdlog::warn("snapshot pull: the control plane is unreachable ({})", spec.path);
        else
          spdlog::warn("snapshot pull: GET {} answered {}: {}", target, response.status,
                       response.body.substr(0, 300));
        return false;
      }
      boost::system::error_code ec;
      json::value body = json::parse(response.body, ec);
      const json::object* object = !ec && body.is_object() ? &body.get_object() : nullptr;
      const json::value* list = object ? object->if_contains("list") : nullptr;
      if (list == nullptr || !list->is_array()) {
        spdlog::warn("snapshot pull: GET {} answered a body without a list", target);
        return false;
      }
      for (auto& item : body.get_object()["list"].get_array()) {
        // The gateway never reads the OpenAPI definition: keeping it would only fatten the
        // memory and the snapshot file.
        if (spec.per_environment && item.is_object()) item.get_object().erase("openapi");
        out.push_back(std::move(item));
      }
      std::string next;
      if (auto* n = body.get_object().if_contains("next"); n != nullptr && n->is_string())
        next = std::string(n->get_string());
      if (next.empty()) return true;
      if (next == after) {
        spdlog::warn("snapshot pull: {} repeats its page key '{}'", spec.path, next);
        return false;
      }
      after = std::move(next);
    }
    spdlog::warn("snapshot pull: {} has more than {} pages", spec.path, kMaxPages);
    return false;
  }

  // Current revocations plus `pulled`, without expired entries. A revocation that arrived by
  // event while the pull was under way stays, whatever the pulled list says.
  std::shared_ptr<const RevokedTokens> merged_revocations(const json::array& pulled) {
    auto now = unix_now();
    auto next = std::make_shared<RevokedTokens>();
    for (const auto& [jti, exp] : store.revoked()->jtis)
      if (exp >= now) next->jtis.emplace(jti, exp);
    for (const auto& item : pulled) {
      if (!item.is_object()) continue;
      const auto& o = item.get_object();
      auto* jti = o.if_contains("jti");
      if (jti == nullptr || !jti->is_string() || jti->get_string().empty()) continue;
      auto exp = int_of(o.if_contains("expiresAt"));
      if (!exp) exp = int_of(o.if_contains("expires_at"));
      std::int64_t expiry = exp && *exp > 0 ? *exp : now + kDefaultRevocationSeconds;
      if (expiry < now) continue;
      next->jtis.insert_or_assign(std::string(jti->get_string()), expiry);
    }
    return next;
  }

  bool publish(const SnapshotSources& sources, const json::array& revoked, const char* origin) {
    std::vector<std::string> warnings;
    std::uint64_t version = next_version++;
    auto snapshot = build_snapshot(sources, version, slots, &warnings);
    log_warnings(warnings);
    if (!snapshot) {
      spdlog::error("snapshot {} from {} could not be built; the current one stays", version,
                    origin);
      return false;
    }
    std::size_t revoked_count = 0;
    {
      std::lock_guard lock(revoked_mutex);
      auto tokens = merged_revocations(revoked);
      revoked_count = tokens->jtis.size();
      store.publish(snapshot, std::move(tokens));
    }
    std::size_t subscriptions = 0;
    snapshot->subscriptions.for_each(
        [&](const std::string&, const auto& subs) { subscriptions += subs.size(); });
    spdlog::info(
        "snapshot {} from {} for environment '{}': {} APIs ({} routes), {} applications, {} "
        "clients, {} subscriptions, {} revoked tokens, {} endpoint slots, {} warnings",
        version, origin, options.environment, snapshot->apis.size(), snapshot->by_context.size(),
        snapshot->applications.size(), snapshot->clients.size(), subscriptions, revoked_count,
        slots.size(), warnings.size());
    return true;
  }

  // Logs warnings not seen in the previous build: a resync every few minutes should not
  // repeat the same complaint forever.
  void log_warnings(const std::vector<std::string>& warnings) {
    std::set<std::string> now(warnings.begin(), warnings.end());
    std::size_t logged = 0, fresh = 0;
    for (const auto& w : now) {
      if (last_warnings.count(w)) continue;
      ++fresh;
      if (logged++ < kMaxWarningsLogged) spdlog::warn("snapshot: {}", w);
    }
    if (fresh > kMaxWarningsLogged)
      spdlog::warn("snapshot: {} more warnings not shown", fresh - kMaxWarningsLogged);
    last_warnings = std::move(now);
  }

  // The pulled control plane's cluster id; "" when it names none (404: a control plane from
  // before cluster ids); nullopt when it could not be asked.
  std::optional<std::string> pull_cluster_id() {
    std::string target = std::string(kInternalBase) + "cluster";
    ControlPlaneResponse response = control_plane.call("GET", target, "", "", true);
    if (response.status == 404) return std::string();
    if (response.status != 200) {
      if (response.status == 0)
        spdlog::warn("snapshot pull: the control plane is unreachable (cluster)");
      else
        spdlog::warn("snapshot pull: GET {} answered {}", target, response.status);
      return std::nullopt;
    }
    boost::system::error_code ec;
    json::value body = json::parse(response.body, ec);
    const json::value* id =
        !ec && body.is_object() ? body.get_object().if_contains("clusterId") : nullptr;
    if (id == nullptr || !id->is_string()) {
      spdlog::warn("snapshot pull: GET {} answered a body without a clusterId", target);
      return std::nullopt;
    }
    return std::string(id->get_string());
  }

  // Whether a pull may replace what the gateway serves: not one from another cluster, nor one
  // that would drop every API while the gateway serves some (a control plane on a wiped or
  // wrong database), unless the operator forces it. Logs and counts a refusal.
  bool accept(const std::string& pulled_cluster, const SnapshotSources& sources) {
    if (options.force_snapshot) return true;
    const std::string& known =
        cluster_id.empty() && file_on_disk ? file_on_disk->cluster_id : cluster_id;
    std::string reason;
    if (!known.empty() && !pulled_cluster.empty() && known != pulled_cluster) {
      reason = "it comes from cluster " + pulled_cluster + ", not " + known;
    } else if (sources.runtime_artifacts.empty()) {
      std::size_t serving = store.ready() ? store.snapshot()->apis.size() : 0;
      if (serving == 0 && file_on_disk) serving = file_on_disk->sources.runtime_artifacts.size();
      if (serving > 0)
        reason = "it has no API for environment '" + options.environment +
                 "' while the gateway has " + std::to_string(serving);
    }
    if (reason.empty()) return true;
    spdlog::error(
        "snapshot pull refused: {}; the gateway keeps its current configuration (set "
        "gateway.force_snapshot to accept it)",
        reason);
    std::lock_guard lock(mutex);
    ++stats.snapshots_refused;
    return false;
  }

  bool pull_and_publish() {
    auto pulled_cluster = pull_cluster_id();
    if (!pulled_cluster) return false;
    SnapshotSources sources;
    sources.environment = options.environment;
    json::array revoked;
    for (const auto& spec : kLists) {
      json::array& out = spec.member != nullptr ? sources.*(spec.member) : revoked;
      if (!pull_list(spec, out)) return false;
    }
    if (!accept(*pulled_cluster, sources)) return false;
    if (!publish(sources, revoked, "the control plane")) return false;
    if (!pulled_cluster->empty()) cluster_id = *pulled_cluster;
    file_sources.reset(std::move(sources));
    save_file();
    return true;
  }

  // The revocations the gateway holds now, as the internal data API lists them.
  json::array revoked_now() {
    json::array out;
    for (const auto& [jti, exp] : store.revoked()->jtis)
      out.push_back(json::object{{"jti", jti}, {"expiresAt", exp}});
    return out;
  }

  // Writes what changed in file_sources to the snapshot file, at most every
  // snapshot_write_seconds: a write asked for sooner is held back until then. The worker, or
  // the destructor once no work is under way.
  void save_file() {
    if (!writer || !file_sources.has_changes()) return;
    auto now = Clock::now();
    auto interval = std::chrono::seconds(std::max(0, options.snapshot_write_seconds));
    if (last_file_write && now < *last_file_write + interval) {
      {
        std::lock_guard lock(mutex);
        if (!file_due) file_due = *last_file_write + interval;
      }
      wake.notify_all();
      return;
    }
    SnapshotFile file;  // the header: the writer adds the sources
    file.environment = options.environment;
    file.cluster_id = cluster_id;
    file.issuer = options.issuer;
    if (options.current_jwks) file.jwks = options.current_jwks();
    {
      std::lock_guard lock(mutex);
      file.position = position;
    }
    {
      std::lock_guard lock(revoked_mutex);
      file.revoked = revoked_now();
    }
    last_file_write = now;
    auto changed = file_sources.take_changes();
    writer->submit(std::move(file), file_sources, std::move(changed));
  }

  // Reads and checks the snapshot file into `file_on_disk`; logs why when it cannot.
  void read_file() {
    const std::string& path = options.snapshot_file;
    if (!std::filesystem::exists(path)) {
      spdlog::warn(
          "no snapshot file at {}: the gateway has no configuration until the control "
          "plane answers",
          path);
      return;
    }
    std::string error, journal_warning;
    auto file = read_snapshot_file(path, &error, &journal_warning);
    if (!file) {
      spdlog::error("snapshot file {} ignored: {}", path, error);
      return;
    }
    if (!journal_warning.empty())
      spdlog::warn("snapshot journal {} replayed up to where {}", journal_path(path),
                   journal_warning);
    if (file->environment != options.environment) {
      spdlog::error("snapshot file {} belongs to environment '{}'; ignored", path,
                    file->environment);
      return;
    }
    file_on_disk = std::move(file);
  }

  // Serves the file read at start-up: its configuration, revocations and JWKS.
  bool publish_file() {
    SnapshotFile& file = *file_on_disk;
    // Written when the file or its journal last was.
    auto written = std::filesystem::file_time_type::min();
    for (const auto& path : {options.snapshot_file, journal_path(options.snapshot_file)}) {
      std::error_code time_error;
      auto time = std::filesystem::last_write_time(path, time_error);
      if (!time_error) written = std::max(written, time);
    }
    auto age = written == std::filesystem::file_time_type::min()
                   ? std::chrono::seconds(0)
                   : std::chrono::duration_cast<std::chrono::seconds>(
                         std::filesystem::file_time_type::clock::now() - written);
    spdlog::warn("serving the last-known configuration from {} (written {} s ago)",
                 options.snapshot_file, age.count());
    if (!file.issuer.empty() && !options.issuer.empty() && file.issuer != options.issuer)
      spdlog::warn("snapshot file issuer '{}' differs from the configured '{}'", file.issuer,
                   options.issuer);
    if (!file.jwks.empty() && options.on_file_jwks) options.on_file_jwks(file.jwks);
    if (!publish(file.sources, file.revoked, "the snapshot file")) return false;
    cluster_id = file.cluster_id;
    file_sources.reset(file.sources);
    file_sources.take_changes();  // the file holds them
    std::lock_guard lock(mutex);
    position = file.position;
    return true;
  }

  // One GET of the internal data API for a per-item read: the parsed body of a 200, a null
  // value for a 404 (the item is gone), nullopt when the control plane did not answer so.
  std::optional<json::value> read_item(const std::string& target) {
    ControlPlaneResponse response = control_plane.call("GET", target, "", "", true);
    if (response.status == 404) return json::value();
    if (response.status != 200) return std::nullopt;
    boost::system::error_code ec;
    json::value body = json::parse(response.body, ec);
    if (ec || body.is_null()) return std::nullopt;
    return body;
  }

  // Publishes a patched snapshot and records it for the file.
  void publish_patch(std::shared_ptr<const Snapshot> next) {
    store.publish(std::move(next));
    {
      std::lock_guard lock(mutex);
      ++stats.patches_applied;
      ++stats.snapshots_published;
    }
    save_file();
  }

  // On the worker: the item an event named, as the control plane has it now, replaces what
  // the snapshot has (level-triggered: whatever the events said, in whatever order, the item's
  // current state wins). `read` returns false when it could not patch: a full pull follows.
  void run_read(const std::string& key, bool (Impl::*read)(const std::string&),
                const std::string& id) {
    {
      std::lock_guard lock(mutex);
      reads_queued.erase(key);
    }
    if (!begin_work()) return;
    bool patched = false;
    try {
      patched = store.ready() && (this->*read)(id);
    } catch (const std::exception& e) {
      spdlog::error("snapshot patch ({}) failed: {}", key, e.what());
    }
    end_work();
    if (!patched) schedule(Clock::now() + std::chrono::milliseconds(options.debounce_ms));
  }

  void queue_read(std::string key, bool (Impl::*read)(const std::string&), std::string id) {
    {
      std::lock_guard lock(mutex);
      if (stopping || !reads_queued.insert(key).second) return;
    }
    std::weak_ptr<Impl> weak = weak_from_this();
    worker.post([weak, key = std::move(key), read, id = std::move(id)] {
      if (auto self = weak.lock()) self->run_read(key, read, id);
    });
  }

  bool read_application(const std::string& id) {
    auto body = read_item(std::string(kInternalBase) + "applications/" + http::percent_encode(id));
    if (!body) return false;
    if (body->is_null()) {
      file_sources.remove_application(id);
      publish_patch(without_application(*store.snapshot(), id, next_version++));
      return true;
    }
    auto record = parse_application_record(*body);
    if (!record || record->application.id != id) return false;
    file_sources.set_application(id, *body);
    publish_patch(with_application(*store.snapshot(), *record, next_version++));
    return true;
  }

  bool read_api(const std::string& id) {
    auto body =
        read_item(std::string(kInternalBase) + "runtime-artifacts/" + http::percent_encode(id) +
                  "?environment=" + http::percent_encode(options.environment));
    if (!body) return false;
    if (body->is_null()) {
      file_sources.remove_artifact(id);
      publish_patch(without_api(*store.snapshot(), id, next_version++));
      return true;
    }
    if (body->is_object()) body->get_object().erase("openapi");
    std::vector<std::string> warnings;
    auto api = compile_api(*body, slots, &warnings);
    for (const auto& w : warnings) spdlog::warn("snapshot: {}", w);
    if (api && api->id != id) return false;
    // A malformed artifact is left out, as a full build leaves it out.
    file_sources.set_artifact(id, std::move(*body));
    publish_patch(api ? with_api(*store.snapshot(), std::move(api), next_version++)
                      : without_api(*store.snapshot(), id, next_version++));
    return true;
  }

  // The throttling and deny policies alone: a few lists, whatever the number of APIs and
  // subscriptions.
  bool read_policies(const std::string&) {
    SnapshotSources lists;
    for (const auto& spec : kLists)
      if (spec.policy && !pull_list(spec, lists.*(spec.member))) return false;
    std::vector<std::string> warnings;
    std::shared_ptr<const traffic::PolicySet> policies;
    try {
      policies = traffic::PolicySet::build(lists.subscription_policies, lists.application_policies,
                                           lists.advanced_policies, lists.deny_policies, &warnings);
    } catch (const std::exception& e) {
      spdlog::error("throttling policies could not be compiled: {}", e.what());
      return false;
    }
    for (const auto& w : warnings) spdlog::warn("snapshot: {}", w);
    if (!policies) return false;
    auto next = std::make_shared<Snapshot>(*store.snapshot());
    next->version = next_version++;
    next->policies = std::move(policies);
    file_sources.set_policies(std::move(lists.subscription_policies),
                              std::move(lists.application_policies),
                              std::move(lists.advanced_policies), std::move(lists.deny_policies));
    publish_patch(std::move(next));
    return true;
  }

  // What an event is about, for the gateway's snapshot.
  enum class Concern { kApplication, kApi, kPolicies, kOther };

  static Concern concern_of(std::string_view type) {
    namespace types = events::types;
    static constexpr std::string_view kApplication[] = {
        types::kApplicationCreated,  types::kApplicationUpdated,  types::kApplicationDeleted,
        types::kKeyMappingCreated,   types::kKeyMappingUpdated,   types::kKeyMappingDeleted,
        types::kSubscriptionCreated, types::kSubscriptionUpdated, types::kSubscriptionDeleted};
    static constexpr std::string_view kApi[] = {types::kApiDeployed, types::kApiUndeployed,
                                                types::kApiLifecycleChanged, types::kApiDeleted,
                                                types::kApiScopesChanged};
    static constexpr std::string_view kPolicies[] = {
        types::kPolicyCreated,     types::kPolicyUpdated,     types::kPolicyDeleted,
        types::kDenyPolicyCreated, types::kDenyPolicyUpdated, types::kDenyPolicyDeleted};
    auto in = [&](const auto& list) {
      return std::find(std::begin(list), std::end(list), type) != std::end(list);
    };
    if (in(kApplication)) return Concern::kApplication;
    if (in(kApi)) return Concern::kApi;
    if (in(kPolicies)) return Concern::kPolicies;
    return Concern::kOther;
  }

  // A string field of the event's payload; "" when it has none.
  static std::string payload_string(const events::Event& event, std::string_view key) {
    boost::system::error_code ec;
    json::value payload = json::parse(event.payload_json, ec);
    if (ec || !payload.is_object()) return {};
    auto* value = payload.get_object().if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->get_string())
                                                  : std::string();
  }

  // Re-reads what the event names; a debounced full pull when it names nothing readable.
  void follow(const events::Event& event) {
    std::string id;
    switch (concern_of(event.type)) {
      case Concern::kApplication:
        if (id = payload_string(event, "application_id"); !id.empty())
          return queue_read("application:" + id, &Impl::read_application, id);
        break;
      case Concern::kApi:
        if (concerns_other_environment(event)) return;
        if (id = payload_string(event, "api_id"); !id.empty())
          return queue_read("api:" + id, &Impl::read_api, id);
        break;
      case Concern::kPolicies:
        return queue_read("policies", &Impl::read_policies, "");
      case Concern::kOther:
        break;
    }
    schedule(Clock::now() + std::chrono::milliseconds(options.debounce_ms));
  }

  void apply_revocation(const events::Event& event) {
    boost::system::error_code ec;
    json::value payload = json::parse(event.payload_json, ec);
    if (ec || !payload.is_object()) {
      spdlog::warn("{} event {} has no JSON object payload; ignored", event.type, event.sequence);
      return;
    }
    const auto& o = payload.get_object();
    auto* jti = o.if_contains("jti");
    if (jti == nullptr || !jti->is_string() || jti->get_string().empty()) {
      spdlog::warn("{} event {} names no jti; ignored", event.type, event.sequence);
      return;
    }
    auto now = unix_now();
    auto exp = int_of(o.if_contains("expires_at"));
    if (!exp) exp = int_of(o.if_contains("expiresAt"));
    std::int64_t expiry = exp && *exp > 0 ? *exp : now + kDefaultRevocationSeconds;
    if (expiry < now) return;  // already expired: the token is refused anyway
    std::lock_guard lock(revoked_mutex);
    auto current = store.revoked();
    auto found = current->jtis.find(std::string_view(jti->get_string()));
    if (found != current->jtis.end() && found->second == expiry) return;
    auto next = std::make_shared<RevokedTokens>();
    next->jtis.reserve(current->jtis.size() + 1);
    for (const auto& [id, e] : current->jtis)
      if (e >= now) next->jtis.emplace(id, e);
    next->jtis.insert_or_assign(std::string(jti->get_string()), expiry);
    store.publish(std::shared_ptr<const RevokedTokens>(std::move(next)));
    std::lock_guard stats_lock(mutex);
    ++stats.revocations_applied;
  }

  // api.deployed / api.undeployed name their environment: another one's need no pull.
  bool concerns_other_environment(const events::Event& event) const {
    if (event.type != events::types::kApiDeployed && event.type != events::types::kApiUndeployed)
      return false;
    boost::system::error_code ec;
    json::value payload = json::parse(event.payload_json, ec);
    if (ec || !payload.is_object()) return false;
    auto* env = payload.get_object().if_contains("environment");
    return env != nullptr && env->is_string() && !env->get_string().empty() &&
           env->get_string() != options.environment;
  }
};

SnapshotLoader::SnapshotLoader(LoaderOptions options, ControlPlane& control_plane,
                               ControlPlaneWorker& worker, SnapshotStore& store)
    : impl_(std::make_shared<Impl>(std::move(options), control_plane, worker, store)) {
  impl_->timer = std::thread([impl = impl_.get()] { impl->timer_loop(); });
}

SnapshotLoader::~SnapshotLoader() {
  {
    std::unique_lock lock(impl_->mutex);
    impl_->stopping = true;
    impl_->due.reset();
    // A pull under way uses the control plane and the store, which the owner may destroy
    // right after the loader: wait for it. Queued pulls see `stopping` and do nothing.
    impl_->wake.notify_all();
    impl_->wake.wait(lock, [&] { return !impl_->pulling; });
  }
  impl_->wake.notify_all();
  if (impl_->timer.joinable()) impl_->timer.join();
  // A gateway stopped within snapshot_write_seconds of its last change still leaves that
  // change in its file, for a start while the control plane is away. No work is under way.
  impl_->last_file_write.reset();
  impl_->save_file();
  impl_->writer.reset();  // writes what is pending, then stops
}

bool SnapshotLoader::load_initial() {
  auto done = std::make_shared<std::promise<bool>>();
  auto result = done->get_future();
  std::weak_ptr<Impl> weak = impl_;
  impl_->worker.post([weak, done] {
    auto self = weak.lock();
    done->set_value(self ? self->run_pull(false) : false);
  });
  try {
    return result.get();
  } catch (const std::future_error&) {
    return false;  // the worker stopped before running it
  }
}

bool SnapshotLoader::refresh_now() {
  auto done = std::make_shared<std::promise<bool>>();
  auto result = done->get_future();
  std::weak_ptr<Impl> weak = impl_;
  impl_->worker.post([weak, done] {
    auto self = weak.lock();
    done->set_value(self ? self->pull_and_flush() : false);
  });
  try {
    return result.get();
  } catch (const std::future_error&) {
    return false;
  }
}

void SnapshotLoader::on_event(const events::Event& event) {
  {
    std::lock_guard lock(impl_->mutex);
    if (event.sequence > impl_->position.sequence) impl_->position.sequence = event.sequence;
  }
  if (event.type == events::types::kTokenRevoked || event.type == events::types::kApiKeyRevoked) {
    impl_->apply_revocation(event);
  } else if (event.type == events::types::kUserDeleted ||
             event.type == events::types::kUserUpdated) {
    if (impl_->options.on_user_deleted) impl_->options.on_user_deleted(event);
  } else {
    impl_->follow(event);
  }
}

void SnapshotLoader::on_log_reset(const events::LogPosition& position) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->position = position;
  }
  impl_->schedule(Clock::now());
}

events::LogPosition SnapshotLoader::position() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->position;
}

void SnapshotLoader::apply_application(const ApplicationRecord& record,
                                       const boost::json::value& bundle) {
  if (!impl_->store.ready() || !impl_->begin_work()) return;
  impl_->file_sources.set_application(record.application.id, bundle);
  impl_->publish_patch(with_application(*impl_->store.snapshot(), record, impl_->next_version++));
  impl_->end_work();
}

std::string SnapshotLoader::metrics_text() const {
  Stats s = stats();
  return "# HELP portico_gateway_snapshot_refused_total Pulls refused because they came from "
         "another cluster or would drop every API.\n"
         "# TYPE portico_gateway_snapshot_refused_total counter\n"
         "portico_gateway_snapshot_refused_total " +
         std::to_string(s.snapshots_refused) +
         "\n"
         "# HELP portico_gateway_snapshot_from_file Whether the configuration served came from "
         "the snapshot file (the control plane was unreachable at start-up).\n"
         "# TYPE portico_gateway_snapshot_from_file gauge\n"
         "portico_gateway_snapshot_from_file " +
         std::string(s.loaded_from_file ? "1" : "0") + "\n";
}

SnapshotLoader::Stats SnapshotLoader::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

}  // namespace portico::gateway

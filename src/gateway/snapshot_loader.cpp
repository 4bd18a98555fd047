#include "gateway/snapshot_loader.h"

#include <boost/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "events/event_types.h"
#include "gateway/snapshot_file.h"
#include "gateway/snapshot_patch.h"

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
};

const ListSpec kLists[] = {
    {"runtime-artifacts", &SnapshotSources::runtime_artifacts, true},
    {"applications", &SnapshotSources::applications, false},
    {"application-key-mappings", &SnapshotSources::key_mappings, false},
    {"subscriptions", &SnapshotSources::subscriptions, false},
    {"policies/subscription", &SnapshotSources::subscription_policies, false},
    {"policies/application", &SnapshotSources::application_policies, false},
    {"policies/advanced", &SnapshotSources::advanced_policies, false},
    {"deny-policies", &SnapshotSources::deny_policies, false},
    {"revoked-tokens", nullptr, false},
};

}  // namespace

struct SnapshotLoader::Impl : std::enable_shared_from_this<Impl> {
  Impl(LoaderOptions o, ControlPlane& cp, ControlPlaneWorker& w, SnapshotStore& s)
      : options(std::move(o)), control_plane(cp), worker(w), store(s) {}

  LoaderOptions options;
  ControlPlane& control_plane;
  ControlPlaneWorker& worker;
  SnapshotStore& store;
  EndpointSlots slots;                  // worker thread only (and its own lock)
  std::uint64_t next_version = 1;       // worker thread only
  std::set<std::string> last_warnings;  // worker thread only: log each warning once
  std::size_t last_file_hash = 0;       // worker thread only
  // The cluster the current configuration came from (the snapshot file's, then each accepted
  // pull's); "" while unknown. Worker thread only.
  std::string cluster_id;
  // The snapshot file as read at start-up, before the first pull (which it may veto).
  std::optional<SnapshotFile> file_on_disk;          // worker thread only
  bool file_read = false;                            // worker thread only
  std::optional<Clock::time_point> last_file_write;  // the worker; file_mutex at the end

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
  // A file write held back by snapshot_write_seconds: written when `file_due` comes.
  std::optional<std::string> pending_file;
  std::optional<Clock::time_point> file_due;
  std::mutex file_mutex;
  std::thread timer;

  // Applications whose re-read is queued on the worker: later events about them ride on it.
  std::set<std::string> applications_queued;  // guarded by `mutex`

  // Serializes read-modify-publish of the revoked tokens (events and pulls).
  std::mutex revoked_mutex;

  bool stopped() {
    std::lock_guard lock(mutex);
    return stopping;
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
          if (auto self = weak.lock()) self->write_pending_file();
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
    for (const auto& [app, subs] : snapshot->subscriptions) subscriptions += subs.size();
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
    save_file(std::move(sources), std::move(revoked));
    return true;
  }

  void save_file(SnapshotSources sources, json::array revoked) {
    if (options.snapshot_file.empty()) return;
    SnapshotFile file;
    file.environment = options.environment;
    file.cluster_id = cluster_id;
    file.issuer = options.issuer;
    if (options.current_jwks) file.jwks = options.current_jwks();
    {
      std::lock_guard lock(mutex);
      file.position = position;
    }
    file.sources = std::move(sources);
    file.revoked = std::move(revoked);
    std::string text = serialize_snapshot_file(file);
    // A resync that changed nothing leaves the disk alone (the file's age then tells how long
    // the configuration has been stable, not when the gateway last pulled).
    std::size_t hash = std::hash<std::string>{}(text);
    if (hash == last_file_hash && std::filesystem::exists(options.snapshot_file)) return;
    auto now = Clock::now();
    auto interval = std::chrono::seconds(std::max(0, options.snapshot_write_seconds));
    if (last_file_write && now < *last_file_write + interval) {
      // Written at most every snapshot_write_seconds: the newest text waits for its turn.
      {
        std::lock_guard lock(mutex);
        pending_file = std::move(text);
        if (!file_due) file_due = *last_file_write + interval;
      }
      wake.notify_all();
      return;
    }
    write_file(text, hash);
  }

  void write_file(const std::string& text, std::size_t hash) {
    std::lock_guard lock(file_mutex);  // the worker, or the destructor's last write
    std::string error;
    last_file_write = Clock::now();
    if (write_file_atomically(options.snapshot_file, text, &error))
      last_file_hash = hash;
    else
      spdlog::warn("snapshot file not written: {}", error);
  }

  // On the worker, when a held-back write is due.
  void write_pending_file() {
    std::optional<std::string> text;
    {
      std::lock_guard lock(mutex);
      text.swap(pending_file);
    }
    if (text) write_file(*text, std::hash<std::string>{}(*text));
  }

  // Reads and checks the snapshot file into `file_on_disk`; logs why when it cannot.
  void read_file() {
    const std::string& path = options.snapshot_file;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      spdlog::warn(
          "no snapshot file at {}: the gateway has no configuration until the control "
          "plane answers",
          path);
      return;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string error;
    auto file = parse_snapshot_file(text.str(), &error);
    if (!file) {
      spdlog::error("snapshot file {} ignored: {}", path, error);
      return;
    }
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
    std::error_code time_error;
    auto written = std::filesystem::last_write_time(options.snapshot_file, time_error);
    auto age = time_error ? std::chrono::seconds(0)
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
    std::lock_guard lock(mutex);
    position = file.position;
    return true;
  }

  // On the worker: the application as the control plane has it now replaces what the
  // snapshot has (level-triggered: whatever the events said, in whatever order, the item's
  // current state wins). Falls back to a full pull when the control plane does not answer.
  void read_application(const std::string& id) {
    {
      std::lock_guard lock(mutex);
      applications_queued.erase(id);
      if (stopping) return;
      pulling = true;
    }
    bool patched = false;
    if (store.ready()) {
      std::string target = std::string(kInternalBase) + "applications/" + http::percent_encode(id);
      ControlPlaneResponse response = control_plane.call("GET", target, "", "", true);
      if (response.status == 404) {
        store.publish(without_application(*store.snapshot(), id, next_version++));
        patched = true;
      } else if (response.status == 200) {
        boost::system::error_code ec;
        json::value body = json::parse(response.body, ec);
        auto record = ec ? std::nullopt : parse_application_record(body);
        if (record && record->application.id == id) {
          store.publish(with_application(*store.snapshot(), *record, next_version++));
          patched = true;
        }
      }
    }
    {
      std::lock_guard lock(mutex);
      pulling = false;
      if (patched) {
        ++stats.patches_applied;
        ++stats.snapshots_published;
      }
    }
    wake.notify_all();
    if (patched)
      schedule_file_refresh();
    else
      schedule(Clock::now() + std::chrono::milliseconds(options.debounce_ms));
  }

  // The snapshot file holds what the last full pull read; a patch reaches it with the next
  // full pull, due within snapshot_write_seconds (at most one such pull per interval however
  // many patches come, since schedule() only brings `due` forward).
  void schedule_file_refresh() {
    if (options.snapshot_file.empty()) return;
    schedule(Clock::now() + std::chrono::seconds(std::max(1, options.snapshot_write_seconds)));
  }

  void reread_application(const std::string& id) {
    {
      std::lock_guard lock(mutex);
      if (stopping || !applications_queued.insert(id).second) return;
    }
    std::weak_ptr<Impl> weak = weak_from_this();
    worker.post([weak, id] {
      if (auto self = weak.lock()) self->read_application(id);
    });
  }

  // The application an application, key-mapping or subscription event names; "" for other
  // events and for payloads without one.
  static std::string application_named(const events::Event& event) {
    namespace types = events::types;
    static constexpr std::string_view kPerApplication[] = {
        types::kApplicationCreated,  types::kApplicationUpdated,  types::kApplicationDeleted,
        types::kKeyMappingCreated,   types::kKeyMappingUpdated,   types::kKeyMappingDeleted,
        types::kSubscriptionCreated, types::kSubscriptionUpdated, types::kSubscriptionDeleted};
    if (std::find(std::begin(kPerApplication), std::end(kPerApplication), event.type) ==
        std::end(kPerApplication))
      return {};
    boost::system::error_code ec;
    json::value payload = json::parse(event.payload_json, ec);
    if (ec || !payload.is_object()) return {};
    auto* id = payload.get_object().if_contains("application_id");
    return id != nullptr && id->is_string() ? std::string(id->get_string()) : std::string();
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
  // change in its file, for a start while the control plane is away.
  impl_->write_pending_file();
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
    done->set_value(self ? self->run_pull(false) : false);
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
  } else if (auto application = Impl::application_named(event); !application.empty()) {
    impl_->reread_application(application);
  } else if (!impl_->concerns_other_environment(event)) {
    impl_->schedule(Clock::now() + std::chrono::milliseconds(impl_->options.debounce_ms));
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

void SnapshotLoader::apply_application(const ApplicationRecord& record) {
  if (!impl_->store.ready()) return;
  auto current = impl_->store.snapshot();
  impl_->store.publish(with_application(*current, record, impl_->next_version++));
  {
    std::lock_guard lock(impl_->mutex);
    ++impl_->stats.patches_applied;
    ++impl_->stats.snapshots_published;
  }
  impl_->schedule_file_refresh();
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

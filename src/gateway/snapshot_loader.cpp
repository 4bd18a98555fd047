#include "gateway/snapshot_loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "events/event_types.h"

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
constexpr int kSnapshotFileFormat = 1;
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

// The names the lists carry in the snapshot file.
const std::pair<std::string_view, json::array SnapshotSources::*> kFileKeys[] = {
    {"runtimeArtifacts", &SnapshotSources::runtime_artifacts},
    {"applications", &SnapshotSources::applications},
    {"keyMappings", &SnapshotSources::key_mappings},
    {"subscriptions", &SnapshotSources::subscriptions},
    {"subscriptionPolicies", &SnapshotSources::subscription_policies},
    {"applicationPolicies", &SnapshotSources::application_policies},
    {"advancedPolicies", &SnapshotSources::advanced_policies},
    {"denyPolicies", &SnapshotSources::deny_policies},
};

// Writes `content` to `path` so that a crash leaves either the old file or the new one.
bool write_atomically(const std::string& path, const std::string& content, std::string* error) {
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot create " + temp + ": " + std::strerror(errno);
    return false;
  }
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = "cannot write " + temp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(temp.c_str());
      return false;
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  // The data must be on disk before the rename makes it the snapshot file.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    *error = "cannot flush " + temp + ": " + std::strerror(errno);
    ::unlink(temp.c_str());
    return false;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + temp + " to " + path + ": " + std::strerror(errno);
    ::unlink(temp.c_str());
    return false;
  }
  auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return true;
}

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

  // Scheduling state, shared by on_event, the timer thread and the worker's tasks.
  std::mutex mutex;
  std::condition_variable wake;
  std::optional<Clock::time_point> due;  // when the next pull should be posted
  bool pull_queued = false;              // posted, not yet started: later events ride on it
  bool pulling = false;
  bool stopping = false;
  Clock::duration backoff{0};
  Stats stats;
  std::thread timer;

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
      if (!due) {
        wake.wait(lock);
        continue;
      }
      if (Clock::now() < *due) {
        wake.wait_until(lock, *due);
        continue;
      }
      due.reset();
      if (pull_queued) continue;
      pull_queued = true;
      std::weak_ptr<Impl> weak = weak_from_this();
      worker.post([weak] {
        if (auto self = weak.lock()) self->run_pull(false, true);
      });
    }
  }

  // One pull on the worker, with its bookkeeping. `initial`: fall back to the snapshot file
  // when the pull fails and nothing has been loaded yet.
  // `queued`: the task the timer posted (while it waits, later events need no other pull).
  bool run_pull(bool initial, bool queued) {
    {
      std::lock_guard lock(mutex);
      if (stopping) return false;
      if (queued) pull_queued = false;
      pulling = true;
    }
    bool ok = false;
    bool from_file = false;
    try {
      ok = pull_and_publish();
      if (!ok && initial && !store.ready() && !options.snapshot_file.empty())
        from_file = load_file();
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

  bool pull_and_publish() {
    SnapshotSources sources;
    sources.environment = options.environment;
    json::array revoked;
    for (const auto& spec : kLists) {
      json::array& out = spec.member != nullptr ? sources.*(spec.member) : revoked;
      if (!pull_list(spec, out)) return false;
    }
    if (!publish(sources, revoked, "the control plane")) return false;
    save_file(sources, revoked);
    return true;
  }

  void save_file(const SnapshotSources& sources, const json::array& revoked) {
    if (options.snapshot_file.empty()) return;
    json::object doc;
    doc["format"] = kSnapshotFileFormat;
    doc["environment"] = options.environment;
    for (const auto& [key, member] : kFileKeys) doc[key] = sources.*member;
    doc["revokedTokens"] = revoked;
    std::string text = json::serialize(doc);
    // A resync that changed nothing leaves the disk alone (the file's age then tells how long
    // the configuration has been stable, not when the gateway last pulled).
    std::size_t hash = std::hash<std::string>{}(text);
    if (hash == last_file_hash && std::filesystem::exists(options.snapshot_file)) return;
    std::string error;
    if (write_atomically(options.snapshot_file, text, &error))
      last_file_hash = hash;
    else
      spdlog::warn("snapshot file not written: {}", error);
  }

  bool load_file() {
    const std::string& path = options.snapshot_file;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      spdlog::warn(
          "no snapshot file at {}: the gateway has no configuration until the control "
          "plane answers",
          path);
      return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    json::value doc = json::parse(text.str(), ec);
    if (ec || !doc.is_object()) {
      spdlog::error("snapshot file {} is not JSON; ignored", path);
      return false;
    }
    const json::object& o = doc.get_object();
    auto format = int_of(o.if_contains("format"));
    if (!format || *format != kSnapshotFileFormat) {
      spdlog::error("snapshot file {} has an unknown format; ignored", path);
      return false;
    }
    auto* env = o.if_contains("environment");
    if (env == nullptr || !env->is_string() || env->get_string() != options.environment) {
      spdlog::error("snapshot file {} belongs to another environment; ignored", path);
      return false;
    }
    SnapshotSources sources;
    sources.environment = options.environment;
    for (const auto& [key, member] : kFileKeys)
      if (auto* list = o.if_contains(key); list != nullptr && list->is_array())
        sources.*member = list->get_array();
    json::array revoked;
    if (auto* list = o.if_contains("revokedTokens"); list != nullptr && list->is_array())
      revoked = list->get_array();
    std::error_code time_error;
    auto written = std::filesystem::last_write_time(path, time_error);
    auto age = time_error ? std::chrono::seconds(0)
                          : std::chrono::duration_cast<std::chrono::seconds>(
                                std::filesystem::file_time_type::clock::now() - written);
    spdlog::warn("serving the last-known configuration from {} (written {} s ago)", path,
                 age.count());
    return publish(sources, revoked, "the snapshot file");
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
}

bool SnapshotLoader::load_initial() {
  auto done = std::make_shared<std::promise<bool>>();
  auto result = done->get_future();
  std::weak_ptr<Impl> weak = impl_;
  impl_->worker.post([weak, done] {
    auto self = weak.lock();
    done->set_value(self ? self->run_pull(true, false) : false);
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
    done->set_value(self ? self->run_pull(false, false) : false);
  });
  try {
    return result.get();
  } catch (const std::future_error&) {
    return false;
  }
}

void SnapshotLoader::on_event(const events::Event& event) {
  if (event.type == events::types::kTokenRevoked || event.type == events::types::kApiKeyRevoked) {
    impl_->apply_revocation(event);
  } else if (event.type == events::types::kUserDeleted ||
             event.type == events::types::kUserUpdated) {
    if (impl_->options.on_user_deleted) impl_->options.on_user_deleted(event);
  } else if (!impl_->concerns_other_environment(event)) {
    impl_->schedule(Clock::now() + std::chrono::milliseconds(impl_->options.debounce_ms));
  }
}

void SnapshotLoader::on_log_reset() {
  impl_->schedule(Clock::now());
}

SnapshotLoader::Stats SnapshotLoader::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

}  // namespace portico::gateway

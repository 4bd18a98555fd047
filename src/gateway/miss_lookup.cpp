#include "gateway/miss_lookup.h"

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include <condition_variable>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/log.h"
#include "gateway/snapshot_builder.h"
#include "http/message.h"

namespace portico::gateway {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kInternalBase = "/internal/data/v1/";

// What one lookup asks, and the cache key that names it.
struct Question {
  std::string key;
  std::string target;  // the per-item read
  std::string api_id;  // non-empty: found only when the application is subscribed to it
};

struct Waiter {
  boost::asio::any_io_executor executor;
  MissLookup::Done done;
};

enum class Outcome { kFound, kNotFound, kFailed };

}  // namespace

struct MissLookup::Impl : std::enable_shared_from_this<Impl> {
  Impl(MissLookupOptions o, ControlPlane& cp, ControlPlaneWorker& w, Learned l)
      : options(o), control_plane(cp), worker(w), learned(std::move(l)) {}

  MissLookupOptions options;
  ControlPlane& control_plane;
  ControlPlaneWorker& worker;
  Learned learned;

  mutable std::mutex mutex;
  std::condition_variable idle;
  std::unordered_map<std::string, std::vector<Waiter>> pending;  // by key: a read is queued
  std::unordered_map<std::string, Clock::time_point> misses;     // by key: refused until
  bool reading = false;
  bool stopping = false;
  Stats stats;

  bool ask(Question question, boost::asio::any_io_executor executor, Done done) {
    std::lock_guard lock(mutex);
    if (stopping) return false;
    auto now = Clock::now();
    if (auto miss = misses.find(question.key); miss != misses.end()) {
      if (now < miss->second) {
        ++stats.cached;
        return false;
      }
      misses.erase(miss);
    }
    auto [waiting, first] = pending.try_emplace(question.key);
    waiting->second.push_back(Waiter{std::move(executor), std::move(done)});
    if (!first) {
      ++stats.coalesced;
      return true;
    }
    std::weak_ptr<Impl> weak = weak_from_this();
    worker.post([weak, question = std::move(question)] {
      if (auto self = weak.lock()) self->read(question);
    });
    return true;
  }

  // On the worker: one per-item read, then every waiter of the key is answered.
  void read(const Question& question) {
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      reading = true;
    }
    std::shared_ptr<const ApplicationRecord> record;
    boost::json::value body;
    Outcome outcome = fetch(question, record, body);
    if (outcome == Outcome::kFound && learned) {
      try {
        learned(*record, body);
      } catch (const std::exception& e) {
        spdlog::error("gateway: applying application {} failed: {}", record->application.id,
                      e.what());
      }
    }
    std::vector<Waiter> waiters;
    {
      std::lock_guard lock(mutex);
      reading = false;
      if (auto it = pending.find(question.key); it != pending.end()) {
        waiters = std::move(it->second);
        pending.erase(it);
      }
      bool answered = outcome == Outcome::kFound &&
                      (question.api_id.empty() || record->subscriptions.count(question.api_id));
      if (!answered) remember_miss(question.key);
      switch (outcome) {
        case Outcome::kFound:
          ++stats.found;
          break;
        case Outcome::kNotFound:
          ++stats.not_found;
          break;
        case Outcome::kFailed:
          ++stats.failed;
          break;
      }
    }
    idle.notify_all();
    for (auto& waiter : waiters)
      boost::asio::post(waiter.executor, [done = std::move(waiter.done), record] { done(record); });
  }

  Outcome fetch(const Question& question, std::shared_ptr<const ApplicationRecord>& record,
                boost::json::value& body) {
    ControlPlaneResponse response = control_plane.call("GET", question.target, "", "", true);
    if (response.status == 404) return Outcome::kNotFound;
    if (response.status != 200) {
      spdlog::warn("gateway: GET {} answered {}; the call is refused", question.target,
                   response.status);
      return Outcome::kFailed;
    }
    boost::system::error_code ec;
    body = boost::json::parse(response.body, ec);
    auto parsed = ec ? std::nullopt : parse_application_record(body);
    if (!parsed) {
      spdlog::warn("gateway: GET {} answered a body without an application", question.target);
      return Outcome::kFailed;
    }
    record = std::make_shared<const ApplicationRecord>(std::move(*parsed));
    return Outcome::kFound;
  }

  // Caller holds the mutex. A flood of distinct keys must not grow the cache without bound:
  // expired entries go first, and if every entry is live the oldest answers are forgotten.
  void remember_miss(const std::string& key) {
    auto now = Clock::now();
    if (misses.size() >= options.max_cached_misses) {
      for (auto it = misses.begin(); it != misses.end();)
        it = it->second <= now ? misses.erase(it) : std::next(it);
      if (misses.size() >= options.max_cached_misses) misses.clear();
    }
    misses[key] = now + options.negative_cache;
  }
};

MissLookup::MissLookup(MissLookupOptions options, ControlPlane& control_plane,
                       ControlPlaneWorker& worker, Learned learned)
    : impl_(std::make_shared<Impl>(options, control_plane, worker, std::move(learned))) {}

MissLookup::~MissLookup() {
  std::unique_lock lock(impl_->mutex);
  impl_->stopping = true;
  // A read under way uses the control plane and `learned`, which the owner may destroy
  // right after: wait for it. Queued reads see `stopping` and do nothing.
  impl_->idle.wait(lock, [&] { return !impl_->reading; });
}

bool MissLookup::ask_for_client(std::string_view client_id, boost::asio::any_io_executor executor,
                                Done done) {
  Question q;
  q.key = "client\x1f" + std::string(client_id);
  q.target = std::string(kInternalBase) + "clients/" +
             http::percent_encode(std::string(client_id)) + "/application";
  return impl_->ask(std::move(q), std::move(executor), std::move(done));
}

bool MissLookup::ask_for_application(std::string_view application_id, std::string_view api_id,
                                     boost::asio::any_io_executor executor, Done done) {
  Question q;
  q.key = "application\x1f" + std::string(application_id) + "\x1f" + std::string(api_id);
  q.target = std::string(kInternalBase) + "applications/" +
             http::percent_encode(std::string(application_id));
  q.api_id = std::string(api_id);
  return impl_->ask(std::move(q), std::move(executor), std::move(done));
}

MissLookup::Stats MissLookup::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

std::string MissLookup::metrics_text() const {
  Stats s = stats();
  std::string text;
  text +=
      "# HELP portico_gateway_miss_lookups_total Control-plane reads of a credential or "
      "subscription the snapshot did not know, by result.\n"
      "# TYPE portico_gateway_miss_lookups_total counter\n";
  text += "portico_gateway_miss_lookups_total{result=\"found\"} " + std::to_string(s.found) + "\n";
  text += "portico_gateway_miss_lookups_total{result=\"not_found\"} " +
          std::to_string(s.not_found) + "\n";
  text +=
      "portico_gateway_miss_lookups_total{result=\"failed\"} " + std::to_string(s.failed) + "\n";
  text +=
      "# HELP portico_gateway_miss_lookup_waits_total Calls that waited on a read of the same "
      "credential another call had started.\n"
      "# TYPE portico_gateway_miss_lookup_waits_total counter\n"
      "portico_gateway_miss_lookup_waits_total " +
      std::to_string(s.coalesced) + "\n";
  text +=
      "# HELP portico_gateway_miss_lookup_cached_total Calls refused from the negative cache "
      "without asking the control plane.\n"
      "# TYPE portico_gateway_miss_lookup_cached_total counter\n"
      "portico_gateway_miss_lookup_cached_total " +
      std::to_string(s.cached) + "\n";
  return text;
}

}  // namespace portico::gateway

#include "events/redis_event_log.h"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <list>
#include <thread>
#include <utility>

#include "common/clock.h"
#include "common/crypto.h"
#include "events/redis_connection.h"

namespace portico::events {
namespace {

// KEYS: sequence, epoch, stream. ARGV: retention, a new epoch in case the log has none,
// then type, payload, time for each event. Returns the last sequence given.
constexpr const char* kAppendScript = R"lua(
local epoch = redis.call('GET', KEYS[2])
if not epoch then epoch = ARGV[2]; redis.call('SET', KEYS[2], epoch) end
local seq = 0
for i = 3, #ARGV, 3 do
  seq = redis.call('INCR', KEYS[1])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[1], seq .. '-0',
             'epoch', epoch, 'type', ARGV[i], 'payload', ARGV[i + 1], 'time', ARGV[i + 2])
end
return seq
)lua";

// KEYS: sequence, epoch. ARGV: a new epoch in case the log has none. Returns {epoch, seq}:
// the position a consumer that reloads everything continues from.
constexpr const char* kPositionScript = R"lua(
local epoch = redis.call('GET', KEYS[2])
if not epoch then epoch = ARGV[1]; redis.call('SET', KEYS[2], epoch) end
return {epoch, redis.call('GET', KEYS[1]) or '0'}
)lua";

std::string text(const redisReply* r) {
  return r && r->str ? std::string(r->str, r->len) : "";
}

std::uint64_t to_u64(std::string_view s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

struct Keys {
  explicit Keys(const std::string& prefix)
      // One hash tag: the script's keys stay on one node of a Redis Cluster.
      : sequence(prefix + ":{events}:seq"),
        epoch(prefix + ":{events}:epoch"),
        stream(prefix + ":{events}:log") {}
  std::string sequence, epoch, stream;
};

// A thread with a stop flag and a connection it can interrupt.
class Worker {
 public:
  Worker(const RedisAddress& address, const RedisLogOptions& options)
      : options_(options), redis_(address, options.timeout) {}
  virtual ~Worker() = default;
  void start() {
    thread_ = std::thread([this] {
      // A write to a Redis that went away must fail with EPIPE, not kill the process: the
      // signal is synchronous, so blocking it in this thread is enough.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      run();
    });
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    redis_.interrupt();
    if (thread_.joinable()) thread_.join();
  }

 protected:
  virtual void run() = 0;
  // Waits for `d` or until stopped or woken; returns false when stopping.
  bool pause(std::chrono::milliseconds d) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, d, [&] { return stopping_ || woken_; });
    woken_ = false;
    return !stopping_;
  }
  bool stopping() {
    std::lock_guard lock(mutex_);
    return stopping_;
  }
  void wake() {
    {
      std::lock_guard lock(mutex_);
      woken_ = true;
    }
    wake_.notify_all();
  }

  const RedisLogOptions& options_;
  RedisConnection redis_;

 private:
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
};

// Moves the outbox into the log.
class Drainer final : public Worker {
 public:
  Drainer(const RedisAddress& address, const RedisLogOptions& options, const Keys& keys,
          EventOutbox& outbox)
      : Worker(address, options), keys_(keys), outbox_(outbox) {}
  void notify() { wake(); }
  std::atomic<bool> reachable{false};

 private:
  void run() override {
    bool new_epoch_owed = false;
    while (!stopping()) {
      if (!redis_.ensure_connected()) {
        note_unreachable();
        if (!pause(options_.retry)) return;
        continue;
      }
      bool delivered = true;
      try {
        // Events were dropped: no consumer may trust its position any more.
        new_epoch_owed = outbox_.take_overflow() || new_epoch_owed;
        if (new_epoch_owed) new_epoch_owed = !start_new_epoch();
        // A batch short of full emptied the outbox (rows another node is draining are not
        // ours to wait for): no second read to find it empty, and no count of what is left.
        std::size_t moved = 0;
        do {
          moved = outbox_.drain(options_.batch,
                                [&](const auto& batch) { return delivered = append(batch); });
        } while (delivered && moved == options_.batch && !stopping());
        outbox_failing_ = false;
      } catch (const std::exception& e) {
        // A database outbox while the database is away: its events wait in it meanwhile.
        if (!std::exchange(outbox_failing_, true))
          spdlog::warn("event log: the outbox cannot be read ({}); retrying", e.what());
        if (!pause(options_.retry)) return;
        continue;
      }
      if (redis_.ensure_connected() && !reachable.exchange(true))
        spdlog::info("event log: Redis reachable; {} events waiting", outbox_.size());
      if (!pause(delivered ? options_.block : options_.retry)) return;
    }
  }

  bool start_new_epoch() {
    auto r = redis_.command({"SET", keys_.epoch, crypto::random_token(12)});
    if (!r || r->type == REDIS_REPLY_ERROR) return false;
    spdlog::warn(
        "event log: events were dropped while Redis was unreachable; a new epoch "
        "makes every consumer reload");
    return true;
  }

  bool append(const std::vector<PendingEvent>& batch) {
    std::vector<std::string> args{"EVAL",
                                  kAppendScript,
                                  "3",
                                  keys_.sequence,
                                  keys_.epoch,
                                  keys_.stream,
                                  std::to_string(options_.retention),
                                  crypto::random_token(12)};
    args.reserve(args.size() + 3 * batch.size());
    for (auto& e : batch) {
      args.push_back(e.type);
      args.push_back(e.payload_json);
      args.push_back(std::to_string(e.time));
    }
    auto r = redis_.command(args);
    if (!r) {
      note_unreachable();
      return false;
    }
    if (r->type == REDIS_REPLY_ERROR) {
      // The stream and the counter disagree (one was deleted by hand): start over.
      spdlog::error("event log: appending failed: {}", text(r.get()));
      redis_.command({"DEL", keys_.sequence, keys_.stream});
      start_new_epoch();
      return false;
    }
    return true;
  }

  void note_unreachable() {
    if (reachable.exchange(false))
      spdlog::warn("event log: Redis unreachable ({}); events are kept in the outbox",
                   redis_.last_error());
  }

  bool outbox_failing_ = false;
  const Keys& keys_;
  EventOutbox& outbox_;
};

// Reads the log for one subscription.
class Consumer final : public Worker {
 public:
  Consumer(const RedisAddress& address, const RedisLogOptions& options, const Keys& keys,
           LogPosition from, EventBus::Listener listener, EventBus::ResetListener on_reset)
      : Worker(address, options),
        keys_(keys),
        position_(std::move(from)),
        listener_(std::move(listener)),
        on_reset_(std::move(on_reset)) {}

 private:
  void run() override {
    bool reset_owed = position_.epoch.empty();
    while (!stopping()) {
      if (!redis_.ensure_connected()) {
        if (!pause(options_.retry)) return;
        continue;
      }
      if (reset_owed) {
        if (!reset()) continue;
        reset_owed = false;
      }
      auto r = redis_.command({"XREAD", "COUNT", std::to_string(options_.batch), "BLOCK",
                               std::to_string(options_.block.count()), "STREAMS", keys_.stream,
                               std::to_string(position_.sequence) + "-0"},
                              options_.block);
      if (!r || r->type == REDIS_REPLY_ERROR) {
        if (!stopping()) pause(options_.retry);
        continue;
      }
      if (r->type == REDIS_REPLY_NIL) {
        reset_owed = log_started_over();
        continue;
      }
      reset_owed = !deliver(r.get());
    }
  }

  // The position is taken before the subscriber reloads: what changes while it reloads
  // comes as events after that position.
  bool reset() {
    auto r = redis_.command(
        {"EVAL", kPositionScript, "2", keys_.sequence, keys_.epoch, crypto::random_token(12)});
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return false;
    position_ = LogPosition{text(r->element[0]), to_u64(text(r->element[1]))};
    if (on_reset_) on_reset_(position_);
    return true;
  }

  // No news for a while: has the log started over under us (new epoch, counter behind)?
  bool log_started_over() {
    auto r = redis_.command({"MGET", keys_.epoch, keys_.sequence});
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return false;
    return text(r->element[0]) != position_.epoch ||
           to_u64(text(r->element[1])) < position_.sequence;
  }

  // XREAD's reply: [[stream, [[id, [field, value, ...]], ...]]]. False on a gap or a new
  // epoch (the rest of the batch is not delivered).
  bool deliver(const redisReply* reply) {
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) return true;
    const redisReply* stream = reply->element[0];
    if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2) return true;
    const redisReply* entries = stream->element[1];
    for (std::size_t i = 0; i < entries->elements; ++i) {
      const redisReply* entry = entries->element[i];
      if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) return false;
      std::string id = text(entry->element[0]);
      Event event;
      event.sequence = to_u64(std::string_view(id).substr(0, id.find('-')));
      std::string epoch;
      const redisReply* fields = entry->element[1];
      for (std::size_t f = 0; f + 1 < fields->elements; f += 2) {
        std::string name = text(fields->element[f]);
        std::string value = text(fields->element[f + 1]);
        if (name == "epoch")
          epoch = std::move(value);
        else if (name == "type")
          event.type = std::move(value);
        else if (name == "payload")
          event.payload_json = std::move(value);
        else if (name == "time")
          event.time = static_cast<std::int64_t>(to_u64(value));
      }
      if (epoch != position_.epoch || event.sequence != position_.sequence + 1) return false;
      try {
        listener_(event);
      } catch (const std::exception& e) {
        // A listener that fails (its database away) must not end the node: its own resync
        // is the safety net for what it missed.
        spdlog::error("event {} ({}): listener failed: {}", event.sequence, event.type, e.what());
      }
      position_.sequence = event.sequence;
    }
    return true;
  }

  const Keys& keys_;
  LogPosition position_;
  EventBus::Listener listener_;
  EventBus::ResetListener on_reset_;
};

}  // namespace

struct RedisEventLog::Impl {
  Impl(RedisLogOptions o, std::unique_ptr<EventOutbox> ob)
      : options(std::move(o)),
        address(parse_redis_url(options.url)),
        keys(options.key_prefix),
        outbox(std::move(ob)),
        drainer(address, options, keys, *outbox) {}
  RedisLogOptions options;
  RedisAddress address;
  Keys keys;
  std::unique_ptr<EventOutbox> outbox;
  Drainer drainer;
  std::mutex consumers_mutex;
  std::list<Consumer> consumers;
  std::vector<Listener> local_listeners;  // guarded by consumers_mutex
};

RedisEventLog::RedisEventLog(RedisLogOptions options, std::unique_ptr<EventOutbox> outbox)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(outbox))) {
  impl_->drainer.start();
}

RedisEventLog::~RedisEventLog() {
  std::lock_guard lock(impl_->consumers_mutex);
  for (auto& c : impl_->consumers) c.stop();
  impl_->drainer.stop();
}

std::uint64_t RedisEventLog::publish(std::string type, std::string payload_json) {
  Event local{0, type, payload_json, unix_now()};
  impl_->outbox->append(PendingEvent{std::move(type), std::move(payload_json), local.time});
  impl_->drainer.notify();
  // This node's own listeners need not wait for Redis (nor go without while it is down);
  // they see the event again from the log, which level-triggered consumers shrug off.
  std::lock_guard lock(impl_->consumers_mutex);
  for (auto& listener : impl_->local_listeners) listener(local);
  return 0;
}

void RedisEventLog::subscribe(Listener listener) {
  subscribe_from({}, std::move(listener), nullptr);
}

void RedisEventLog::subscribe_from(LogPosition from, Listener listener, ResetListener on_reset) {
  std::lock_guard lock(impl_->consumers_mutex);
  impl_->local_listeners.push_back(listener);
  auto& c =
      impl_->consumers.emplace_back(impl_->address, impl_->options, impl_->keys, std::move(from),
                                    std::move(listener), std::move(on_reset));
  c.start();
}

bool RedisEventLog::reachable() const {
  return impl_->drainer.reachable;
}

std::size_t RedisEventLog::pending() {
  return impl_->outbox->size();
}

}  // namespace portico::events

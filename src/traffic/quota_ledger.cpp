// The gateway's side of cluster-wide throttling: what it holds of each leased counter-window.
// Accounting, per counter-window: the traffic manager has counted `granted + overdraft
// reported` for this gateway; whatever the local counter admitted beyond that is the next
// ask's overdraft, whatever it did not spend of it goes back once idle.
#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include "traffic/traffic.h"

namespace portico::traffic {
namespace {

constexpr std::size_t kShards = 64;
// Counts on the wire stay below 2^40 (the protocol's bound).
constexpr std::int64_t kMaxTokens = (std::int64_t{1} << 40) - 1;
// A first rate estimate divides by at least this: one request just seen is not a rate of
// thousands a second.
constexpr std::int64_t kMinRateSampleMs = 50;
// An entry is dropped this long after its window ended (a late answer finds nothing to change).
constexpr std::int64_t kDropGraceMs = 1000;

struct Entry {
  std::int64_t window_ms = 0;
  std::int64_t limit = 0;
  std::int64_t window = 0;  // the window the grant fields below refer to
  std::int64_t granted = 0;
  std::int64_t credit = 0;  // credit_for(limit) once the window's first request came on no word
  std::int64_t overdraft_reported = 0;
  std::int64_t spent_until = 0;  // unix ms; refused without asking before then
  bool answered = false;         // a traffic manager said something about this window
  std::int64_t last_grant = 0;
  double rate_per_second = 0;
  std::int64_t hits = 0;  // requests since rate_since_ms
  std::int64_t rate_since_ms = 0;
  std::int64_t last_use_ms = 0;
  std::int64_t last_ask_ms = 0;
  bool ask_pending = false;  // on a wanting list, or to be put back there after a flight
  bool in_flight = false;    // an ask of this entry is out; its answer is not in yet
  std::int64_t flight_window = 0;
  std::int64_t flight_overdraft = 0;
  std::int64_t flight_return = 0;

  std::int64_t window_end_ms() const { return (window + 1) * window_ms; }

  void open_window(std::int64_t index) {
    window = index;
    granted = credit = overdraft_reported = 0;
    answered = false;
  }
};

struct Shard {
  std::mutex mutex;
  std::unordered_map<std::uint64_t, Entry> entries;
  std::vector<std::uint64_t> wanting;
};

std::int64_t window_of(std::int64_t now_ms, std::int64_t window_ms) {
  return std::max<std::int64_t>(now_ms, 0) / window_ms;
}

}  // namespace

struct QuotaLedger::Impl {
  QuotaLedgerOptions options;
  std::array<Shard, kShards> shards;
  std::atomic<std::size_t> entries{0};
  std::atomic<std::int64_t> members{1};
  std::atomic<bool> fallback{false};
  std::mutex wake_mutex;
  std::condition_variable wake_cv;
  std::atomic<bool> woken{false};

  Shard& shard_of(std::uint64_t key) { return shards[(key >> 58) % kShards]; }

  // Under the shard's lock.
  void ask_soon(Shard& shard, std::uint64_t key, Entry& e) {
    if (e.ask_pending) return;
    e.ask_pending = true;
    if (!e.in_flight) shard.wanting.push_back(key);
  }

  std::int64_t want(Entry& e, std::int64_t now_ms) {
    std::int64_t elapsed = std::max(now_ms - e.rate_since_ms, kMinRateSampleMs);
    double sample = static_cast<double>(e.hits) * 1000.0 / static_cast<double>(elapsed);
    e.rate_per_second = e.rate_per_second == 0 ? sample : 0.5 * e.rate_per_second + 0.5 * sample;
    e.hits = 0;
    e.rate_since_ms = now_ms;
    double tokens =
        std::ceil(e.rate_per_second * static_cast<double>(options.lease_horizon_ms) / 1000.0);
    std::int64_t cap = std::clamp<std::int64_t>(e.limit, 1, kMaxTokens);
    return std::clamp<std::int64_t>(static_cast<std::int64_t>(std::min(tokens, 1e15)), 1, cap);
  }
};

QuotaLedger::QuotaLedger(QuotaLedgerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->options.lease_horizon_ms = std::max<std::int64_t>(options.lease_horizon_ms, 1);
  impl_->options.lease_idle_ms = std::max<std::int64_t>(options.lease_idle_ms, 1);
}

QuotaLedger::~QuotaLedger() = default;

QuotaLedger::Allowance QuotaLedger::allowance(std::uint64_t key, std::int64_t window_ms,
                                              std::int64_t limit, std::int64_t now_ms) {
  Impl& impl = *impl_;
  const std::int64_t index = window_of(now_ms, window_ms);
  Shard& shard = impl.shard_of(key);
  bool wake_agent = false;
  Allowance out;
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.entries.find(key);
    if (it == shard.entries.end()) {
      if (impl.entries.load(std::memory_order_relaxed) >= impl.options.max_entries) {
        out.leased = false;
        out.tokens = local_share(limit);
        return out;
      }
      it = shard.entries.emplace(key, Entry{}).first;
      impl.entries.fetch_add(1, std::memory_order_relaxed);
      it->second.window_ms = window_ms;
      it->second.open_window(index);
      it->second.rate_since_ms = now_ms;
    }
    Entry& e = it->second;
    if (e.window < index) e.open_window(index);
    e.limit = limit;
    e.last_use_ms = now_ms;
    ++e.hits;
    out.tokens = e.granted + e.credit;
    out.ask_below = std::max<std::int64_t>(1, e.last_grant / 2);
    if (e.spent_until > now_ms) {
      // Someone else's return may have freed quota: asked again, but not on every request.
      out.spent = true;
      if (now_ms - e.last_ask_ms >= impl.options.lease_idle_ms && !e.ask_pending) {
        impl.ask_soon(shard, key, e);
        wake_agent = true;
      }
    } else if (impl.fallback.load(std::memory_order_relaxed)) {
      if (impl.options.fail_closed)
        out.unavailable = true;
      else
        out.tokens = std::max(out.tokens, local_share(limit));
    } else if (!e.answered && e.credit == 0) {
      // The window's first requests on no word: admitted on credit, reported as overdraft.
      // The credit is 1 % of the limit shared by the members (at least 1), so that a busy
      // counter does not refuse the requests of a lease's round trip at every window's start;
      // all gateways' credits together stay within 1 % of the limit.
      e.credit = credit_for(limit);
      out.tokens += e.credit;
      impl.ask_soon(shard, key, e);
      wake_agent = true;
    }
  }
  if (wake_agent) wake();
  return out;
}

void QuotaLedger::want_more(std::uint64_t key, std::int64_t now_ms) {
  (void)now_ms;
  Shard& shard = impl_->shard_of(key);
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.entries.find(key);
    if (it == shard.entries.end() || it->second.ask_pending) return;
    impl_->ask_soon(shard, key, it->second);
  }
  wake();
}

std::int64_t QuotaLedger::credit_for(std::int64_t limit) const {
  return std::max<std::int64_t>(1, limit / (100 * impl_->members.load(std::memory_order_relaxed)));
}

std::int64_t QuotaLedger::local_share(std::int64_t limit) const {
  return std::max<std::int64_t>(1, limit / impl_->members.load(std::memory_order_relaxed));
}

std::vector<LeaseAsk> QuotaLedger::collect(const Throttler& throttler, std::int64_t now_ms,
                                           bool full_scan) {
  Impl& impl = *impl_;
  std::vector<LeaseAsk> asks;
  std::vector<std::uint64_t> candidates;
  for (Shard& shard : impl.shards) {
    std::lock_guard lock(shard.mutex);
    candidates.clear();
    if (full_scan) {
      shard.wanting.clear();
      for (auto it = shard.entries.begin(); it != shard.entries.end();) {
        const Entry& e = it->second;
        bool over = e.window_end_ms() + kDropGraceMs < now_ms && e.spent_until <= now_ms;
        if (over && !e.in_flight) {
          it = shard.entries.erase(it);
          impl.entries.fetch_sub(1, std::memory_order_relaxed);
          continue;
        }
        candidates.push_back(it->first);
        ++it;
      }
    } else {
      candidates.swap(shard.wanting);
    }
    for (std::uint64_t key : candidates) {
      auto it = shard.entries.find(key);
      if (it == shard.entries.end()) continue;
      Entry& e = it->second;
      if (e.in_flight) continue;  // its answer puts it back on the wanting list
      if (e.window != window_of(now_ms, e.window_ms) || e.limit <= 0) {
        e.ask_pending = false;  // a window nobody used since it opened, or an unused marker
        continue;
      }
      // The credit counts as used from the moment it is given: the agent may look before the
      // request it admitted reaches the counter, and an unreported credit would let the
      // traffic managers grant the whole limit besides.
      std::int64_t used = std::max(throttler.admitted(key, e.window_ms, now_ms),
                                   std::min<std::int64_t>(e.credit, 1));
      std::int64_t covered = e.granted + e.overdraft_reported;
      LeaseAsk ask{
          key, e.window_ms, e.window, e.limit, std::max<std::int64_t>(0, used - covered), 0, 0};
      if (e.ask_pending) {
        ask.want = impl.want(e, now_ms);
      } else if (full_scan && now_ms - e.last_use_ms >= impl.options.lease_idle_ms) {
        ask.give_back = std::clamp<std::int64_t>(covered - used, 0, e.granted);
      }
      e.ask_pending = false;
      if (ask.overdraft == 0 && ask.want == 0 && ask.give_back == 0) continue;
      ask.overdraft = std::min(ask.overdraft, kMaxTokens);
      e.in_flight = true;
      e.flight_window = e.window;
      e.flight_overdraft = ask.overdraft;
      e.flight_return = ask.give_back;
      e.overdraft_reported += ask.overdraft;
      e.granted -= ask.give_back;
      e.last_ask_ms = now_ms;
      asks.push_back(ask);
    }
    if (full_scan) shard.wanting.clear();
  }
  return asks;
}

void QuotaLedger::apply(const std::vector<LeaseAsk>& asks, const std::vector<LeaseAnswer>& answers,
                        std::int64_t now_ms) {
  Impl& impl = *impl_;
  bool wake_agent = false;
  for (std::size_t i = 0; i < asks.size(); ++i) {
    const LeaseAsk& ask = asks[i];
    Shard& shard = impl.shard_of(ask.key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.entries.find(ask.key);
    if (it == shard.entries.end() || !it->second.in_flight) continue;
    Entry& e = it->second;
    e.in_flight = false;
    const LeaseAnswer* answer = i < answers.size() ? &answers[i] : nullptr;
    // A grant for a window that has since ended is of no use: the window is over.
    if (answer != nullptr && answer->key == ask.key && answer->window == e.window &&
        answer->window_ms == e.window_ms) {
      e.answered = true;
      e.granted += std::clamp<std::int64_t>(answer->granted, 0, kMaxTokens);
      if (answer->granted > 0) e.last_grant = answer->granted;
      // Spent is raised by any answer, cleared only by a grant: an answer computed before a
      // throttle.exhausted event arrived must not undo it.
      if (answer->until > now_ms)
        e.spent_until = std::max(e.spent_until, answer->until);
      else if (answer->granted > 0)
        e.spent_until = 0;
    }
    if (e.ask_pending) {
      shard.wanting.push_back(ask.key);
      wake_agent = true;
    }
  }
  if (wake_agent) wake();
}

void QuotaLedger::abandon(const std::vector<LeaseAsk>& asks) {
  Impl& impl = *impl_;
  for (const LeaseAsk& ask : asks) {
    Shard& shard = impl.shard_of(ask.key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.entries.find(ask.key);
    if (it == shard.entries.end() || !it->second.in_flight) continue;
    Entry& e = it->second;
    e.in_flight = false;
    if (e.window == e.flight_window) {
      e.overdraft_reported -= e.flight_overdraft;
      e.granted += e.flight_return;
    }
    if (ask.want > 0) e.ask_pending = true;
    if (e.ask_pending) shard.wanting.push_back(ask.key);
  }
}

void QuotaLedger::mark_spent(std::uint64_t key, std::int64_t window_ms, std::int64_t window,
                             std::int64_t until) {
  if (window_ms <= 0 || until <= 0) return;
  Impl& impl = *impl_;
  Shard& shard = impl.shard_of(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) {
    if (impl.entries.load(std::memory_order_relaxed) >= impl.options.max_entries) return;
    it = shard.entries.emplace(key, Entry{}).first;
    impl.entries.fetch_add(1, std::memory_order_relaxed);
    it->second.window_ms = window_ms;
    it->second.open_window(window);
  }
  Entry& e = it->second;
  if (e.window_ms != window_ms || e.window > window) return;
  if (e.window < window) e.open_window(window);
  e.spent_until = std::max(e.spent_until, until);
}

void QuotaLedger::set_members(std::int64_t members) {
  impl_->members.store(std::max<std::int64_t>(1, members), std::memory_order_relaxed);
}

void QuotaLedger::set_fallback(bool on) {
  impl_->fallback.store(on, std::memory_order_relaxed);
}

bool QuotaLedger::wait_for_work(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->wake_mutex);
  bool woken = impl_->wake_cv.wait_for(lock, timeout, [&] { return impl_->woken.load(); });
  impl_->woken.store(false);
  return woken;
}

void QuotaLedger::wake() {
  // The mutex only on the transition, so that the agent cannot miss it between its check and
  // its wait; requests that find the flag already set pay one atomic exchange.
  if (impl_->woken.exchange(true)) return;
  std::lock_guard lock(impl_->wake_mutex);
  impl_->wake_cv.notify_one();
}

QuotaLedgerStats QuotaLedger::stats() const {
  QuotaLedgerStats s;
  s.counters = impl_->entries.load(std::memory_order_relaxed);
  s.refused_spent = refused_spent_.load(std::memory_order_relaxed);
  s.members = impl_->members.load(std::memory_order_relaxed);
  s.fallback = impl_->fallback.load(std::memory_order_relaxed);
  return s;
}

}  // namespace portico::traffic

// The decision: blocking conditions, then every limit that applies, in the reference's order.
// Counters are taken as the checks go; the first refusal gives back what was taken, so that
// counters only ever hold admitted requests.
#include <algorithm>

#include "traffic/counter_table.h"
#include "traffic/key_hash.h"
#include "traffic/pattern.h"
#include "traffic/traffic.h"

namespace portico::traffic {
namespace {

// The reference's error messages (its gateway error-code documentation). Descriptions are
// Portico's words.
struct Refusal {
  ThrottleLevel level;
  int status;
  long code;
  std::string_view message;
  std::string_view description;
};

constexpr Refusal kDenied{ThrottleLevel::kDenied, 429, 900805, "Message blocked",
                          "You have been blocked from accessing the resource"};
constexpr Refusal kApi{ThrottleLevel::kApi, 429, 900800, "Message throttled out",
                       "You have exceeded your quota"};
constexpr Refusal kResource{ThrottleLevel::kResource, 429, 900802, "Resource level throttle out",
                            "You have exceeded your quota for this resource"};
constexpr Refusal kSubscription{ThrottleLevel::kSubscription, 429, 900804,
                                "Subscription level throttled out",
                                "You have exceeded your subscription's quota"};
constexpr Refusal kBurst{ThrottleLevel::kBurst, 429, 900807, "Message throttled out",
                         "You have exceeded the burst control limit of your subscription"};
constexpr Refusal kApplication{ThrottleLevel::kApplication, 429, 900803,
                               "Application level throttle out",
                               "You have exceeded your application's quota"};
constexpr Refusal kBackend{ThrottleLevel::kBackend, 503, 900801, "Hard limit exceeded",
                           "The backend's maximum requests per second have been reached"};
// Fail-closed cluster throttling with no traffic manager answering, once the leases are spent.
constexpr Refusal kUnavailable{ThrottleLevel::kNone, 503, 900809, "Throttling unavailable",
                               "No traffic manager can be reached to lease quota"};

// Whether a level's counters are leased from the traffic managers in cluster mode. Burst
// control and backend max TPS are not: a per-second spike arrest cannot wait for a lease round
// trip, so they count at limit / members per gateway.
enum class Scope : std::uint8_t { kLeased, kLocalShare };

// Tags that keep the counter keys of different levels apart.
enum KeyTag : std::uint64_t {
  kApiTag = 1,
  kResourceTag,
  kSubscriptionTag,
  kBurstTag,
  kApplicationTag,
  kBackendTag,
};

constexpr std::uint64_t kDefaultGroup = ~std::uint64_t{0};

// At most: two advanced policies (groups + default each), quota, burst, application, backend.
constexpr std::size_t kMaxTickets = 2 * (32 + 1) + 4;

// The client address, parsed on first use and at most once per request.
class LazyIp {
 public:
  explicit LazyIp(std::string_view text) : text_(text) {}
  const std::optional<IpAddress>& get() {
    if (!parsed_) {
      ip_ = parse_ip(text_);
      parsed_ = true;
    }
    return ip_;
  }

 private:
  std::string_view text_;
  bool parsed_ = false;
  std::optional<IpAddress> ip_;
};

bool contains(const std::vector<std::string>& sorted, std::string_view value) {
  if (value.empty() || sorted.empty()) return false;
  auto it = std::lower_bound(sorted.begin(), sorted.end(), value,
                             [](const std::string& a, std::string_view b) { return a < b; });
  return it != sorted.end() && *it == value;
}

bool denied(const PolicySet::DenyRules& deny, const ThrottleRequest& r, LazyIp& ip) {
  if (contains(deny.apis, r.api_context_version)) return true;
  if (contains(deny.applications, r.application_owner_and_name)) return true;
  if (contains(deny.users, r.user)) return true;
  if (deny.blocked_ips.empty() && deny.allowed_only_ips.empty()) return false;
  const auto& address = ip.get();
  if (!address) {
    // An address that cannot be read is outside every allow-only range.
    return !deny.allowed_only_ips.empty();
  }
  auto it = std::upper_bound(deny.blocked_ips.begin(), deny.blocked_ips.end(), *address,
                             [](const IpAddress& a, const IpRange& r) { return a < r.first; });
  if (it != deny.blocked_ips.begin() && std::prev(it)->contains(*address)) return true;
  for (const IpRange& allowed : deny.allowed_only_ips) {
    if (!allowed.contains(*address)) return true;
  }
  return false;
}

ThrottleDecision refusal_for_blocking_condition() {
  ThrottleDecision d;
  d.allowed = false;
  d.level = kDenied.level;
  d.status = kDenied.status;
  d.code = kDenied.code;
  d.message = kDenied.message;
  d.description = kDenied.description;
  return d;
}

bool condition_holds(const Condition& c, const ThrottleRequest& r, LazyIp& ip) {
  bool match = false;
  switch (c.type) {
    case Condition::Type::kHeader:
    case Condition::Type::kQueryParameter:
    case Condition::Type::kJwtClaim: {
      if (r.attributes == nullptr || !c.pattern) break;
      std::optional<std::string_view> value =
          c.type == Condition::Type::kHeader           ? r.attributes->header(c.name)
          : c.type == Condition::Type::kQueryParameter ? r.attributes->query_parameter(c.name)
                                                       : r.attributes->claim(c.name);
      match = value && c.pattern->matches(*value);
      break;
    }
    case Condition::Type::kIpSpecific:
    case Condition::Type::kIpRange: {
      const auto& address = ip.get();
      match = address && c.ip.contains(*address);
      break;
    }
  }
  return c.invert ? !match : match;
}

std::int64_t retry_after_seconds(std::int64_t window_end_ms, std::int64_t now_ms) {
  std::int64_t ms = window_end_ms - now_ms;
  return std::max<std::int64_t>(1, (ms + 999) / 1000);
}

// One decision in progress: what it has taken so far, to give back on a refusal.
class Decider {
 public:
  Decider(CounterTable& counters, QuotaLedger* ledger, const ThrottleRequest& request,
          std::atomic<std::uint64_t>& bandwidth_dropped)
      : counters_(counters),
        ledger_(ledger),
        request_(request),
        ip_(request.client_ip),
        bandwidth_dropped_(bandwidth_dropped) {}

  ThrottleDecision decide(const PolicySet& policies) {
    if (denied(policies.deny(), request_, ip_)) return refuse(kDenied, 0);

    if (const AdvancedPolicy* p = advanced(policies, request_.api_policy)) {
      if (auto end = take_advanced(*p, kApiTag, request_.api_id)) return refuse(kApi, *end);
    }
    if (const AdvancedPolicy* p = advanced(policies, request_.resource_policy)) {
      if (auto end = take_advanced(*p, kResourceTag, request_.resource_key))
        return refuse(kResource, *end);
    }
    if (!request_.subscription_policy.empty()) {
      if (const SubscriptionPolicy* p = policies.subscription(request_.subscription_policy)) {
        if (auto end = take(
                p->limit,
                KeyHasher(kCounterKeySeed).add(kSubscriptionTag).add(request_.subscription_key))) {
          if (p->stop_on_quota_reach) return refuse(kSubscription, *end);
          decision_.subscription_over_quota = true;
          unavailable_ = false;  // let through: nothing was refused
        }
        if (auto end = take(
                p->burst, KeyHasher(kCounterKeySeed).add(kBurstTag).add(request_.subscription_key),
                Scope::kLocalShare))
          return refuse(kBurst, *end);
      }
    }
    if (!request_.application_policy.empty()) {
      if (const ApplicationPolicy* p = policies.application(request_.application_policy)) {
        if (auto end = take(p->limit, KeyHasher(kCounterKeySeed)
                                          .add(kApplicationTag)
                                          .add(request_.application_id)
                                          .add(request_.user)))
          return refuse(kApplication, *end);
      }
    }
    if (request_.backend_max_tps > 0) {
      Limit tps{LimitKind::kRequests, request_.backend_max_tps, 1000, false};
      if (auto end = take(tps,
                          KeyHasher(kCounterKeySeed)
                              .add(kBackendTag)
                              .add(request_.api_id)
                              .add(request_.key_type),
                          Scope::kLocalShare))
        return refuse(kBackend, *end);
    }
    return decision_;
  }

 private:
  const AdvancedPolicy* advanced(const PolicySet& policies, std::string_view name) const {
    return name.empty() ? nullptr : policies.advanced(name);
  }

  // Every matching group's limit, or the default limit when none matches (the reference's
  // ThrottleConditionEvaluator); the end of the refusing window, or nullopt when admitted.
  std::optional<std::int64_t> take_advanced(const AdvancedPolicy& policy, KeyTag tag,
                                            std::string_view id) {
    bool matched = false;
    for (std::size_t g = 0; g < policy.groups.size(); ++g) {
      const ConditionGroup& group = policy.groups[g];
      bool holds =
          std::all_of(group.conditions.begin(), group.conditions.end(),
                      [&](const Condition& c) { return condition_holds(c, request_, ip_); });
      if (!holds) continue;
      matched = true;
      if (auto end = take(group.limit,
                          KeyHasher(kCounterKeySeed).add(tag).add(id).add(policy.name).add(g)))
        return end;
    }
    if (matched) return std::nullopt;
    return take(policy.default_limit,
                KeyHasher(kCounterKeySeed).add(tag).add(id).add(policy.name).add(kDefaultGroup));
  }

  // Counts the request against `limit`; the end of the refusing window, or nullopt when
  // admitted (or not counted).
  // In cluster mode request counts are leased (Scope::kLeased) and everything else counts at
  // limit / members; bandwidth is not leased, as a lease of bytes would need a byte rate.
  std::optional<std::int64_t> take(const Limit& limit, KeyHasher key,
                                   Scope scope = Scope::kLeased) {
    if (limit.unlimited || limit.window_ms <= 0) return std::nullopt;
    const bool bytes = limit.kind == LimitKind::kBandwidth;
    std::uint64_t hash = key.add(static_cast<std::uint64_t>(limit.kind))
                             .add(static_cast<std::uint64_t>(limit.window_ms))
                             .finish();
    std::int64_t allowed = limit.amount;
    QuotaLedger::Allowance lease;
    const bool leased = ledger_ != nullptr && scope == Scope::kLeased && !bytes;
    if (leased) {
      lease = ledger_->allowance(hash, limit.window_ms, limit.amount, request_.now_ms);
      allowed = lease.tokens;
    } else if (ledger_ != nullptr) {
      allowed = ledger_->local_share(limit.amount);
    }
    auto outcome = counters_.acquire(hash, limit.window_ms, request_.now_ms, allowed,
                                     bytes ? request_.request_bytes : 1);
    switch (outcome.result) {
      case CounterTable::Result::kRefused:
        if (leased && lease.leased) {
          if (lease.unavailable)
            unavailable_ = true;
          else if (lease.spent)
            ledger_->count_refused_spent();
          else
            ledger_->want_more(hash, request_.now_ms);
        }
        return outcome.window_end_ms;
      case CounterTable::Result::kUntracked:
        decision_.untracked = true;
        return std::nullopt;
      case CounterTable::Result::kAdmitted:
        break;
    }
    if (leased && lease.leased && !lease.spent &&
        allowed - counters_.count(hash, limit.window_ms, request_.now_ms) < lease.ask_below)
      ledger_->want_more(hash, request_.now_ms);
    if (outcome.ticket.amount > 0 && taken_ < kMaxTickets) tickets_[taken_++] = outcome.ticket;
    if (bytes) {
      if (decision_.bandwidth_count < ThrottleDecision::kMaxBandwidthCounters) {
        decision_.bandwidth[decision_.bandwidth_count++] = {hash, limit.window_ms};
      } else {
        bandwidth_dropped_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    return std::nullopt;
  }

  ThrottleDecision refuse(const Refusal& refusal, std::int64_t window_end_ms) {
    for (std::size_t i = 0; i < taken_; ++i) counters_.release(tickets_[i]);
    ThrottleDecision d;
    d.allowed = false;
    d.level = refusal.level;
    const Refusal& reply = unavailable_ ? kUnavailable : refusal;
    d.status = reply.status;
    d.code = reply.code;
    d.message = reply.message;
    d.description = reply.description;
    d.retry_after_seconds = refusal.level == ThrottleLevel::kDenied
                                ? 0
                                : retry_after_seconds(window_end_ms, request_.now_ms);
    d.untracked = decision_.untracked;
    return d;
  }

  CounterTable& counters_;
  QuotaLedger* ledger_;
  const ThrottleRequest& request_;
  LazyIp ip_;
  std::atomic<std::uint64_t>& bandwidth_dropped_;
  ThrottleDecision decision_;
  std::array<CounterTable::Ticket, kMaxTickets> tickets_;
  std::size_t taken_ = 0;
  bool unavailable_ = false;  // a leased counter refused for want of a traffic manager
};

}  // namespace

Throttler::Throttler(ThrottlerOptions options)
    : counters_(std::make_unique<CounterTable>(options.counter_slots)), ledger_(options.ledger) {}

Throttler::~Throttler() = default;

ThrottleDecision Throttler::decide(const PolicySet& policies, const ThrottleRequest& request) {
  return Decider(*counters_, ledger_, request, bandwidth_dropped_).decide(policies);
}

void Throttler::record_bytes(const ThrottleDecision& decision, std::int64_t bytes,
                             std::int64_t now_ms) {
  if (bytes <= 0) return;
  for (std::uint8_t i = 0; i < decision.bandwidth_count; ++i) {
    counters_->add(decision.bandwidth[i].key, decision.bandwidth[i].window_ms, now_ms, bytes);
  }
}

std::int64_t Throttler::admitted(std::uint64_t key, std::int64_t window_ms,
                                 std::int64_t now_ms) const {
  return counters_->count(key, window_ms, now_ms);
}

ThrottlerStats Throttler::stats() const {
  ThrottlerStats s;
  s.untracked = counters_->untracked();
  s.slots_in_use = counters_->slots_in_use();
  s.bandwidth_dropped = bandwidth_dropped_.load(std::memory_order_relaxed);
  return s;
}

std::vector<WindowCount> Throttler::long_windows(std::int64_t now_ms) const {
  std::vector<WindowCount> out;
  for (const auto& w : counters_->current_windows(kLongWindowMs, now_ms)) {
    out.push_back({w.key, w.window_ms, w.window_index, w.count, 0});
  }
  return out;
}

std::size_t Throttler::restore(const std::vector<WindowCount>& windows, std::int64_t now_ms) {
  std::size_t restored = 0;
  for (const WindowCount& w : windows) {
    if (w.window_ms <= 0 || w.count <= 0 || now_ms / w.window_ms != w.window) continue;
    counters_->add(w.key, w.window_ms, now_ms, w.count);
    ++restored;
  }
  return restored;
}

ThrottleDecision decide_before_authentication(const PolicySet& policies, std::string_view client_ip,
                                              std::string_view api_context_version) {
  // Application and user conditions stay empty here: they are decided after authentication.
  ThrottleRequest request;
  request.client_ip = client_ip;
  request.api_context_version = api_context_version;
  LazyIp ip(client_ip);
  if (denied(policies.deny(), request, ip)) return refusal_for_blocking_condition();
  return ThrottleDecision{};
}

}  // namespace portico::traffic

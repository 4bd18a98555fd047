#pragma once
// The throttling engine the gateway calls on its request path: blocking conditions (deny
// policies), advanced API- and resource-level policies with conditional groups, subscription
// tiers with burst control, application tiers and the backend's hard limit, decided in the
// reference's order against exact per-node fixed-window counters.
//
// Two halves, on either side of the configuration boundary:
// - PolicySet: compiled once per configuration version from the control plane's JSON,
//   immutable, shared as std::shared_ptr<const PolicySet>.
// - Throttler: the counters (a fixed-capacity lock-free table) and the one decide() call.
//   Thread-safe; never blocks, never throws, and allocates nothing (unless a conditional
//   group's value is a regular expression, which Boost.Regex evaluates).
#include <boost/json/array.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::traffic {

class CounterTable;
class Pattern;

// An IPv4 or IPv6 address as one 128-bit number; IPv4 is held IPv4-mapped (::ffff:a.b.c.d),
// so that one ordering serves both families and a dual-stack peer matches IPv4 rules.
struct IpAddress {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  auto operator<=>(const IpAddress&) const = default;
};

// Parses a textual IPv4 or IPv6 address (an IPv6 zone "%eth0" is ignored); nullopt when it is
// neither. No allocation.
std::optional<IpAddress> parse_ip(std::string_view text);

// An inclusive range of addresses.
struct IpRange {
  IpAddress first;
  IpAddress last;
  bool contains(const IpAddress& ip) const { return first <= ip && ip <= last; }
};

// Counts of a limit: requests (request-count and event-count limits) or bytes (bandwidth).
enum class LimitKind : std::uint8_t { kRequests, kBandwidth };

// One compiled limit: `amount` per window of `window_ms`, windows aligned to the Unix epoch.
struct Limit {
  LimitKind kind = LimitKind::kRequests;
  std::int64_t amount = 0;     // requests, or bytes (dataAmount × KB/MB/GB, 1024-based)
  std::int64_t window_ms = 0;  // unitTime × timeUnit
  bool unlimited = true;       // the reference's 2147483647 requests (or a count too large to
                               // hold): never counted
};

// One condition of an advanced policy's conditional group, compiled.
struct Condition {
  enum class Type : std::uint8_t { kHeader, kQueryParameter, kJwtClaim, kIpSpecific, kIpRange };
  Type type = Type::kHeader;
  bool invert = false;
  std::string name;   // header, query parameter or claim name
  std::string value;  // the value or pattern as configured (kept for diagnostics)
  // Header values match when the pattern is found in the value (the reference's find());
  // query parameters and claims when the whole value matches (its matches()). Values without
  // regex metacharacters are compared as plain text, without a regex engine.
  std::shared_ptr<const Pattern> pattern;
  IpRange ip;  // kIpSpecific: one address (first == last); kIpRange: the range
};

// A conditional group: every condition must hold; then the request counts against `limit`.
struct ConditionGroup {
  std::vector<Condition> conditions;
  Limit limit;
};

struct SubscriptionPolicy {
  std::string name;
  Limit limit;
  Limit burst;  // rateLimitCount per rateLimitTimeUnit (sec or min); unlimited when absent
  bool stop_on_quota_reach = false;
};

struct ApplicationPolicy {
  std::string name;
  Limit limit;
};

// API-level and resource-level ("advanced") policy.
struct AdvancedPolicy {
  std::string name;
  Limit default_limit;                 // counts requests that match no group
  std::vector<ConditionGroup> groups;  // in the configured order
};

// Every policy and blocking condition of one configuration version, compiled and indexed by
// name (APIs, applications and subscriptions refer to policies by name).
class PolicySet {
 public:
  // Compiles the lists the internal data API serves (the Admin REST representations). A
  // malformed policy, group or condition is skipped with one line in `warnings` (may be
  // null); disabled deny policies are left out. Never throws, never returns null.
  static std::shared_ptr<const PolicySet> build(const boost::json::array& subscription_policies,
                                                const boost::json::array& application_policies,
                                                const boost::json::array& advanced_policies,
                                                const boost::json::array& deny_policies,
                                                std::vector<std::string>* warnings);

  // nullptr when no policy of that name exists at that level.
  const SubscriptionPolicy* subscription(std::string_view name) const;
  const ApplicationPolicy* application(std::string_view name) const;
  const AdvancedPolicy* advanced(std::string_view name) const;

  // Enabled blocking conditions, compiled.
  struct DenyRules {
    std::vector<std::string> apis;          // API context with version, "/pets/1.0.0"; sorted
    std::vector<std::string> applications;  // "owner:name"; sorted
    std::vector<std::string> users;         // sorted
    // Blocked addresses: fixed IPs and ranges that are not inverted, merged into sorted,
    // disjoint ranges.
    std::vector<IpRange> blocked_ips;
    // Inverted conditions: an address outside any one of these is blocked.
    std::vector<IpRange> allowed_only_ips;
  };
  const DenyRules& deny() const { return deny_; }

  std::size_t policy_count() const {
    return subscriptions_.size() + applications_.size() + advanced_.size();
  }

 private:
  std::vector<SubscriptionPolicy> subscriptions_;  // each sorted by name
  std::vector<ApplicationPolicy> applications_;
  std::vector<AdvancedPolicy> advanced_;
  DenyRules deny_;
};

// What conditional groups look at besides the client IP, supplied by the gateway for the
// request being decided. Header names are matched as the implementation sees fit (the
// gateway's headers are case-insensitive); nullopt when absent. Called only for policies
// that have such conditions.
class RequestAttributes {
 public:
  virtual ~RequestAttributes() = default;
  virtual std::optional<std::string_view> header(std::string_view name) const = 0;
  virtual std::optional<std::string_view> query_parameter(std::string_view name) const = 0;
  // A JWT claim's value when it is a string (the reference matches string claims only).
  virtual std::optional<std::string_view> claim(std::string_view name) const = 0;
};

// One request as the throttler sees it: views into the gateway's per-request context and
// snapshot, valid for the duration of decide(). An empty policy name skips that level.
struct ThrottleRequest {
  std::string_view client_ip;            // "10.0.0.7", "2001:db8::1" (no port)
  std::string_view api_id;               // API-level counter key
  std::string_view api_context_version;  // "/pets/1.0.0": API deny conditions name APIs so
  std::string_view api_policy;           // advanced policy of the API
  std::string_view resource_key;         // api id + verb + template: resource counter key
  std::string_view resource_policy;      // advanced policy of the operation
  std::string_view subscription_key;     // application id + api id: subscription counter key
  std::string_view subscription_policy;
  std::string_view application_id;
  std::string_view application_owner_and_name;  // "owner:name", as APPLICATION deny conditions
  std::string_view application_policy;
  std::string_view user;             // end user: application counters are per application AND user
  std::string_view key_type;         // PRODUCTION or SANDBOX: backend limits are per key type
  std::int64_t backend_max_tps = 0;  // the API's max TPS for this key type; 0: none
  std::int64_t request_bytes = 0;    // counted against bandwidth limits when admitted
  // Unix ms, read when the check runs; windows are floor(now_ms / window_ms). A reading more
  // than a second old may count in a window other threads have already closed.
  std::int64_t now_ms = 0;
  const RequestAttributes* attributes = nullptr;  // null: header/query/claim conditions fail
};

// Which check refused (or kNone).
enum class ThrottleLevel : std::uint8_t {
  kNone,
  kDenied,        // blocking condition: 429 900805
  kApi,           // advanced API-level policy: 429 900800
  kResource,      // advanced resource-level policy: 429 900802
  kSubscription,  // subscription tier: 429 900804
  kBurst,         // subscription burst control: 429 900807
  kApplication,   // application tier: 429 900803
  kBackend,       // backend max TPS: 503 900801
};

// A counter that admitted the request and counts bytes: record_bytes() adds the response's.
struct BandwidthCounter {
  std::uint64_t key = 0;
  std::int64_t window_ms = 0;
};

// The answer for one request. On a refusal `status`, `code` and `message` are the reference's
// and `description` Portico's (static storage: no allocation); `retry_after_seconds` is the time to
// the end of the window that refused, at least 1 (0 for blocking conditions, which do not
// end by themselves: send no Retry-After then).
struct ThrottleDecision {
  bool allowed = true;
  ThrottleLevel level = ThrottleLevel::kNone;
  int status = 0;
  long code = 0;
  std::string_view message;
  std::string_view description;
  std::int64_t retry_after_seconds = 0;
  // Allowed although the subscription's quota is spent, because its policy does not stop on
  // quota reach (analytics records it).
  bool subscription_over_quota = false;
  // A counter could not be tracked (table full or contended) and the request was let through
  // uncounted at that level.
  bool untracked = false;
  static constexpr std::size_t kMaxBandwidthCounters = 8;
  std::array<BandwidthCounter, kMaxBandwidthCounters> bandwidth{};
  std::uint8_t bandwidth_count = 0;
};

// The blocking conditions that need no credential: the caller's address (IP and IP_RANGE
// conditions) and the API ("/pets/1.0.0"). The gateway asks before authentication, so that a
// blocked caller costs no credential check; a refusal is decide()'s (429 900805). Counts
// nothing, never throws, allocates nothing.
ThrottleDecision decide_before_authentication(const PolicySet& policies, std::string_view client_ip,
                                              std::string_view api_context_version);

class QuotaLedger;

struct ThrottlerOptions {
  std::size_t counter_slots = 65536;  // rounded up to a power of two
  // Cluster-wide throttling (a gateway with traffic managers): advanced, subscription and
  // application limits admit what the ledger's leases allow; burst control and backend max
  // TPS count at limit / members. Null: per-node limits. Must outlive the throttler.
  QuotaLedger* ledger = nullptr;
};

// Counters of the throttler, read for metrics (relaxed: a snapshot, not a transaction).
struct ThrottlerStats {
  std::uint64_t untracked = 0;          // counter operations let through because the table was full
                                        // or a slot stayed contended (fail open)
  std::uint64_t slots_in_use = 0;       // slots ever claimed (reused ones count once)
  std::uint64_t bandwidth_dropped = 0;  // bandwidth counters beyond kMaxBandwidthCounters
};

// Windows this long or longer are "long": their counts outlive a process (persisted by an
// all-in-one node, kept by the traffic managers), because losing an hour's or a day's count
// to a restart would hand every caller a fresh quota.
inline constexpr std::int64_t kLongWindowMs = 3'600'000;

// One counter's count in one window. Counter keys are stable hashes: every process computes
// the same key for the same counter (API, subscription, application and user, policy, group,
// limit kind, window length).
struct WindowCount {
  std::uint64_t key = 0;
  std::int64_t window_ms = 0;
  std::int64_t window = 0;  // floor(now_ms / window_ms): windows aligned to the Unix epoch
  std::int64_t count = 0;   // requests, or bytes
  std::int64_t limit = 0;   // 0: unknown (the counters keep no limits)
};

// A counter key as it goes on the wire and into storage: 16 lowercase hex digits.
std::string format_counter_key(std::uint64_t key);
// nullopt unless `text` is exactly 16 lowercase hex digits.
std::optional<std::uint64_t> parse_counter_key(std::string_view text);

// The decision engine and its counters. One per process (per node); shared by every thread.
class Throttler {
 public:
  explicit Throttler(ThrottlerOptions options = {});
  ~Throttler();
  Throttler(const Throttler&) = delete;
  Throttler& operator=(const Throttler&) = delete;

  // The whole decision, first refusal wins: blocking conditions, API-level policy, resource-
  // level policy, subscription tier (then its burst control), application tier, backend max
  // TPS. A refused request is not counted anywhere: counters already taken for it are given
  // back, so every counter holds admitted requests only and a limit of N admits exactly N per
  // window on this node.
  ThrottleDecision decide(const PolicySet& policies, const ThrottleRequest& request);

  // Adds bytes transferred (typically the response's) to the bandwidth counters of an
  // admitted request, in the window of `now_ms`. No limit is checked: the next request is
  // refused once the window's bytes have reached it.
  void record_bytes(const ThrottleDecision& decision, std::int64_t bytes, std::int64_t now_ms);

  ThrottlerStats stats() const;

  // The counts of long windows (kLongWindowMs or longer) current at `now_ms`, for whoever
  // persists them. A snapshot read while requests count on; allocates.
  std::vector<WindowCount> long_windows(std::int64_t now_ms) const;
  // Adds persisted counts to the counters. Counts of windows that are not current at `now_ms`
  // (ended, or not begun) are skipped. Call before serving, so that no window is counted from
  // zero first; returns how many counts were added.
  std::size_t restore(const std::vector<WindowCount>& windows, std::int64_t now_ms);

  // What this node admitted in `key`'s window at `now_ms` (the lease agent's view of use).
  std::int64_t admitted(std::uint64_t key, std::int64_t window_ms, std::int64_t now_ms) const;

 private:
  std::unique_ptr<CounterTable> counters_;
  QuotaLedger* ledger_;
  std::atomic<std::uint64_t> bandwidth_dropped_{0};
};

// ---- Cluster-wide throttling: quota leases (docs/throttling.md "Gateway leases") -----------

// One counter-window as the lease agent asks about it (POST /internal/traffic/v1/leases).
struct LeaseAsk {
  std::uint64_t key = 0;  // on the wire: 16 lowercase hex digits
  std::int64_t window_ms = 0;
  std::int64_t window = 0;  // floor(now_ms / window_ms)
  std::int64_t limit = 0;
  std::int64_t overdraft = 0;  // admitted beyond what was granted (a credit, an outage)
  std::int64_t want = 0;
  std::int64_t give_back = 0;  // "return": granted, unspent, idle
};

// A traffic manager's answer for one counter-window; `until` > 0: the counter is spent until
// then (unix ms).
struct LeaseAnswer {
  std::uint64_t key = 0;
  std::int64_t window_ms = 0;
  std::int64_t window = 0;
  std::int64_t granted = 0;
  std::int64_t until = 0;
};

struct QuotaLedgerOptions {
  bool fail_closed = false;             // traffic.mode: with no traffic manager, refuse (503)
  std::int64_t lease_horizon_ms = 500;  // want = recent rate x horizon
  std::int64_t lease_idle_ms = 1000;    // unspent tokens idle this long are given back
  std::size_t max_entries = 65536;      // counter-windows held; beyond: limit / members locally
};

struct QuotaLedgerStats {
  std::uint64_t counters = 0;       // counter-windows held
  std::uint64_t refused_spent = 0;  // requests refused as spent without asking
  std::int64_t members = 1;
  bool fallback = false;
};

// What this gateway holds of each leased counter's window: granted total, overdraft reported,
// spent-until, last grant, recent rate, last use. The request path (Throttler::decide) reads
// and creates entries; the lease agent's thread collects asks and applies answers.
//
// A sharded map, each shard under its own mutex held for a few loads and stores: entries are
// created on first use and dropped once their window is over, which a fixed lock-free table
// could only do with the hand-over protocol of the counter table.
class QuotaLedger {
 public:
  explicit QuotaLedger(QuotaLedgerOptions options);
  ~QuotaLedger();
  QuotaLedger(const QuotaLedger&) = delete;
  QuotaLedger& operator=(const QuotaLedger&) = delete;

  // ---- request path (called by the throttler) ----
  struct Allowance {
    std::int64_t tokens = 0;     // admit while local use is below this
    std::int64_t ask_below = 0;  // ask for more once fewer than this are left
    bool spent = false;          // known spent: refused without asking
    bool unavailable = false;    // fail-closed with no traffic manager: refuse 503 900809
    bool leased = true;          // false: no room for the entry, count at limit / members
  };
  Allowance allowance(std::uint64_t key, std::int64_t window_ms, std::int64_t limit,
                      std::int64_t now_ms);
  // After an admission left `left` tokens (<= ask_below), or a refusal that was not known
  // spent: the agent asks soon.
  void want_more(std::uint64_t key, std::int64_t now_ms);
  void count_refused_spent() { refused_spent_.fetch_add(1, std::memory_order_relaxed); }
  // Burst control and backend max TPS: limit / members, at least 1.
  std::int64_t local_share(std::int64_t limit) const;
  // What a gateway admits of a counter-window before its first grant: limit / (100 × members),
  // at least 1.
  std::int64_t credit_for(std::int64_t limit) const;

  // ---- the lease agent's thread ----
  // The asks due now: counters that want more, overdraft not yet reported, idle leases to give
  // back. `full_scan` also looks at every entry (idle returns, overdraft after an outage) and
  // drops entries whose window is over. Marks what it returns as in flight.
  std::vector<LeaseAsk> collect(const Throttler& throttler, std::int64_t now_ms, bool full_scan);
  // The call carrying `asks` was answered (answers in the asks' order).
  void apply(const std::vector<LeaseAsk>& asks, const std::vector<LeaseAnswer>& answers,
             std::int64_t now_ms);
  // The call carrying `asks` failed: what they reported or returned is still to be told.
  void abandon(const std::vector<LeaseAsk>& asks);
  // A counter spent cluster-wide (throttle.exhausted, the throttled list).
  void mark_spent(std::uint64_t key, std::int64_t window_ms, std::int64_t window,
                  std::int64_t until);
  void set_members(std::int64_t members);
  // No traffic manager answers (the agent's circuit is open): fail-open or fail-closed.
  void set_fallback(bool on);
  // Wakes the agent when an entry wants more; the agent waits on it between rounds.
  bool wait_for_work(std::chrono::milliseconds timeout);
  void wake();

  QuotaLedgerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::uint64_t> refused_spent_{0};
};

}  // namespace portico::traffic

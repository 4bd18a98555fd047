#include "gateway/lease_agent.h"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "events/event_types.h"

namespace portico::gateway {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kLeasesPath = "/internal/traffic/v1/leases";
constexpr std::string_view kThrottledPath = "/internal/traffic/v1/throttled";
constexpr std::size_t kMaxCountersPerCall = 1000;

std::optional<std::uint64_t> parse_key(const json::value* v) {
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return traffic::parse_counter_key(v->as_string());
}

std::int64_t int_of(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return 0;
}

std::string lease_body(const std::string& gateway, const traffic::LeaseAsk* asks, std::size_t n) {
  json::array counters;
  counters.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const traffic::LeaseAsk& a = asks[i];
    counters.push_back(json::object{{"key", traffic::format_counter_key(a.key)},
                                    {"window_ms", a.window_ms},
                                    {"window", a.window},
                                    {"limit", a.limit},
                                    {"overdraft", a.overdraft},
                                    {"want", a.want},
                                    {"return", a.give_back}});
  }
  return json::serialize(json::object{{"gateway", gateway}, {"counters", std::move(counters)}});
}

// A {key, window_ms, window, until} object of the throttled list or an event.
struct Spent {
  std::uint64_t key;
  std::int64_t window_ms, window, until;
};
std::optional<Spent> parse_spent(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  auto key = parse_key(o.if_contains("key"));
  if (!key) return std::nullopt;
  return Spent{*key, int_of(o, "window_ms"), int_of(o, "window"), int_of(o, "until")};
}

}  // namespace

struct LeaseAgent::Impl {
  LeaseAgentOptions options;
  std::vector<std::shared_ptr<ControlPlane>> managers;
  traffic::QuotaLedger& ledger;
  const traffic::Throttler& throttler;

  std::thread thread;
  std::atomic<bool> stopping{false};
  std::size_t current = 0;  // the manager that answered last: asked first
  int failures_in_a_row = 0;
  std::atomic<bool> circuit_open{false};
  // The throttled list was read once, or the circuit opened trying: see settled().
  std::atomic<bool> settled{false};
  std::atomic<std::uint64_t> calls_ok{0};
  std::atomic<std::uint64_t> calls_failed{0};

  Impl(LeaseAgentOptions o, std::vector<std::shared_ptr<ControlPlane>> m, traffic::QuotaLedger& l,
       const traffic::Throttler& t)
      : options(std::move(o)), managers(std::move(m)), ledger(l), throttler(t) {}

  // One request to the first manager that answers 200, starting with the last one that did.
  std::optional<std::string> call(std::string_view method, std::string_view path,
                                  std::string_view body) {
    for (std::size_t i = 0; i < managers.size(); ++i) {
      std::size_t index = (current + i) % managers.size();
      auto response =
          managers[index]->call(method, path, body.empty() ? "" : "application/json", body, true);
      if (response.status == 200) {
        current = index;
        return std::move(response.body);
      }
    }
    return std::nullopt;
  }

  // One lease call; false when no manager answered (or answered nonsense).
  bool lease(const traffic::LeaseAsk* asks, std::size_t n) {
    auto body = call("POST", kLeasesPath, lease_body(options.gateway_id, asks, n));
    if (!body) return false;
    boost::system::error_code ec;
    json::value parsed = json::parse(*body, ec);
    if (ec || !parsed.is_object()) return false;
    const json::object& o = parsed.as_object();
    const json::value* counters = o.if_contains("counters");
    if (counters == nullptr || !counters->is_array()) return false;
    std::vector<traffic::LeaseAnswer> answers;
    answers.reserve(counters->as_array().size());
    for (const json::value& c : counters->as_array()) {
      traffic::LeaseAnswer a;
      if (c.is_object()) {
        const json::object& co = c.as_object();
        if (auto key = parse_key(co.if_contains("key"))) a.key = *key;
        a.window_ms = int_of(co, "window_ms");
        a.window = int_of(co, "window");
        a.granted = int_of(co, "granted");
        a.until = int_of(co, "until");
      }
      answers.push_back(a);
    }
    if (std::int64_t members = int_of(o, "members"); members > 0) ledger.set_members(members);
    ledger.apply(std::vector<traffic::LeaseAsk>(asks, asks + n), answers, unix_now_ms());
    return true;
  }

  // Sends every ask (an empty call when there are none: the heartbeat); what a failed call
  // carried, and everything after it, stays to be told.
  bool send(const std::vector<traffic::LeaseAsk>& asks) {
    std::size_t sent = 0;
    bool ok = true;
    do {
      std::size_t n = std::min(kMaxCountersPerCall, asks.size() - sent);
      if (!lease(asks.data() + sent, n)) {
        ok = false;
        break;
      }
      sent += n;
    } while (sent < asks.size());
    if (!ok) ledger.abandon(std::vector<traffic::LeaseAsk>(asks.begin() + sent, asks.end()));
    (ok ? calls_ok : calls_failed).fetch_add(1, std::memory_order_relaxed);
    return ok;
  }

  bool read_throttled() {
    auto body = call("GET", kThrottledPath, "");
    if (!body) return false;
    boost::system::error_code ec;
    json::value parsed = json::parse(*body, ec);
    if (ec || !parsed.is_object()) return false;
    const json::object& o = parsed.as_object();
    if (std::int64_t members = int_of(o, "members"); members > 0) ledger.set_members(members);
    if (const json::value* list = o.if_contains("throttled"); list && list->is_array()) {
      for (const json::value& item : list->as_array()) {
        if (auto s = parse_spent(item))
          ledger.mark_spent(s->key, s->window_ms, s->window, s->until);
      }
    }
    return true;
  }

  void run() {
    const auto heartbeat = std::max(options.heartbeat, std::chrono::milliseconds(10));
    const auto scan_every = std::max(options.lease_idle / 2, std::chrono::milliseconds(10));
    const auto reset = std::max(options.breaker_reset, std::chrono::milliseconds(10));
    auto next_heartbeat = Clock::now();  // at once: joins the membership
    auto next_scan = Clock::now() + scan_every;
    Clock::time_point retry_at{};
    bool throttled_list_due = true;
    while (!stopping) {
      auto now = Clock::now();
      auto wake_at = std::min(next_heartbeat, next_scan);
      if (circuit_open) wake_at = retry_at;
      if (wake_at > now)
        ledger.wait_for_work(std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - now) +
                             std::chrono::milliseconds(1));
      if (stopping) break;
      now = Clock::now();
      if (circuit_open && now < retry_at) continue;
      // An open circuit's probe is a full scan: it carries what was admitted meanwhile.
      bool full_scan = circuit_open || now >= next_scan;
      if (full_scan) next_scan = now + scan_every;
      auto asks = ledger.collect(throttler, unix_now_ms(), full_scan);
      if (asks.empty() && now < next_heartbeat && !circuit_open && !throttled_list_due) continue;
      bool ok = send(asks);
      next_heartbeat = Clock::now() + heartbeat;
      if (ok) {
        failures_in_a_row = 0;
        if (circuit_open) {
          spdlog::info("gateway: a traffic manager answers again; leasing quota");
          circuit_open = false;
          ledger.set_fallback(false);
          throttled_list_due = true;
        }
        if (throttled_list_due && read_throttled()) {
          throttled_list_due = false;
          settled = true;
        }
        continue;
      }
      ++failures_in_a_row;
      if (circuit_open || failures_in_a_row >= options.breaker_failures) {
        if (!circuit_open) {
          spdlog::warn("gateway: no traffic manager answers; throttling falls back to {}",
                       "traffic.mode");
        }
        circuit_open = true;
        settled = true;  // traffic.mode decides from now on: nothing left to wait for
        ledger.set_fallback(true);
        retry_at = Clock::now() + reset;
      }
    }
  }
};

LeaseAgent::LeaseAgent(LeaseAgentOptions options,
                       std::vector<std::shared_ptr<ControlPlane>> managers,
                       traffic::QuotaLedger& ledger, const traffic::Throttler& throttler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(managers), ledger, throttler)) {}

LeaseAgent::~LeaseAgent() {
  stop();
}

void LeaseAgent::start() {
  if (impl_->thread.joinable() || impl_->managers.empty()) return;
  impl_->thread = std::thread([this] { impl_->run(); });
}

void LeaseAgent::stop() {
  impl_->stopping = true;
  impl_->ledger.wake();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void LeaseAgent::on_event(const events::Event& event) {
  if (event.type != events::types::kThrottleExhausted) return;
  boost::system::error_code ec;
  json::value payload = json::parse(event.payload_json, ec);
  if (ec) return;
  if (auto s = parse_spent(payload))
    impl_->ledger.mark_spent(s->key, s->window_ms, s->window, s->until);
}

bool LeaseAgent::settled() const {
  return impl_->settled.load();
}

LeaseAgent::Stats LeaseAgent::stats() const {
  return {impl_->calls_ok.load(), impl_->calls_failed.load(), impl_->circuit_open.load()};
}

std::string LeaseAgent::metrics_text() const {
  Stats s = stats();
  traffic::QuotaLedgerStats l = impl_->ledger.stats();
  return "# HELP portico_gateway_lease_calls_total Lease calls to the traffic managers.\n"
         "# TYPE portico_gateway_lease_calls_total counter\n"
         "portico_gateway_lease_calls_total{result=\"ok\"} " +
         std::to_string(s.calls_ok) +
         "\n"
         "portico_gateway_lease_calls_total{result=\"failed\"} " +
         std::to_string(s.calls_failed) +
         "\n"
         "# HELP portico_gateway_leased_counters Counter-windows this gateway holds leases of.\n"
         "# TYPE portico_gateway_leased_counters gauge\n"
         "portico_gateway_leased_counters " +
         std::to_string(l.counters) +
         "\n"
         "# HELP portico_gateway_throttle_fallback Whether no traffic manager answers and "
         "throttling follows traffic.mode.\n"
         "# TYPE portico_gateway_throttle_fallback gauge\n"
         "portico_gateway_throttle_fallback " +
         std::string(l.fallback ? "1" : "0") +
         "\n"
         "# HELP portico_gateway_traffic_members Gateways the traffic managers count.\n"
         "# TYPE portico_gateway_traffic_members gauge\n"
         "portico_gateway_traffic_members " +
         std::to_string(l.members) +
         "\n"
         "# HELP portico_gateway_throttle_refused_spent_total Requests refused as spent "
         "cluster-wide without asking a traffic manager.\n"
         "# TYPE portico_gateway_throttle_refused_spent_total counter\n"
         "portico_gateway_throttle_refused_spent_total " +
         std::to_string(l.refused_spent) + "\n";
}

}  // namespace portico::gateway

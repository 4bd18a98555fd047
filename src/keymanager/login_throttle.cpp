#include "keymanager/login_throttle.h"

#include <algorithm>
#include <unordered_map>

namespace portico::keymanager {
namespace {

constexpr long kAccountLockedCode = 17003;  // the reference's user store: "account is locked"

std::int64_t seconds_until(LoginThrottle::Clock::time_point until,
                           LoginThrottle::Clock::time_point now) {
  auto left = std::chrono::ceil<std::chrono::seconds>(until - now).count();
  return std::max<std::int64_t>(1, left);
}

}  // namespace

std::string Lockout::description() const {
  std::string wait = "try again in " + std::to_string(retry_after_seconds) + " seconds";
  if (reason == Reason::kAddress)
    return "Sign-ins from this address are locked after too many failed attempts; " + wait;
  return "Account is locked after too many failed sign-in attempts; " + wait;
}

AccountLocked::AccountLocked(const Lockout& l)
    : ApiError(401, kAccountLockedCode, "Account is locked", l.description()), lockout(l) {
  headers["Retry-After"] = std::to_string(l.retry_after_seconds);
}

namespace {

// The counters of one process.
class MemoryCounters final : public LoginThrottle::Counters {
 public:
  MemoryCounters(const ThrottlePolicy& policy, std::size_t max_entries)
      : policy_(policy), max_entries_(max_entries) {}

  std::optional<LoginThrottle::Counter> find(LoginThrottle::Kind kind,
                                             std::string_view key) override {
    std::lock_guard lock(mutex_);
    Table& table = table_of(kind);
    auto it = table.find(std::string(key));
    if (it == table.end()) return std::nullopt;
    return it->second;
  }

  void update(LoginThrottle::Kind kind, std::string_view key, LoginThrottle::Clock::time_point now,
              const std::function<void(LoginThrottle::Counter&)>& change) override {
    std::lock_guard lock(mutex_);
    Table& table = table_of(kind);
    auto it = table.find(std::string(key));
    if (it == table.end()) {
      make_room(table, now);
      it = table.emplace(std::string(key), LoginThrottle::Counter{}).first;
    }
    change(it->second);
  }

  void erase(LoginThrottle::Kind kind, std::string_view key) override {
    std::lock_guard lock(mutex_);
    table_of(kind).erase(std::string(key));
  }

 private:
  using Table = std::unordered_map<std::string, LoginThrottle::Counter>;

  Table& table_of(LoginThrottle::Kind kind) {
    return kind == LoginThrottle::Kind::kAccount ? accounts_ : addresses_;
  }

  void make_room(Table& table, LoginThrottle::Clock::time_point now) {
    if (table.size() < max_entries_) return;
    std::erase_if(table, [&](const auto& entry) {
      const auto& c = entry.second;
      return c.locked_until <= now && now - c.last_failure > policy_.lockout_max;
    });
    // Bounded memory over perfect memory: unlocked entries go next, locks stay.
    if (table.size() >= max_entries_)
      std::erase_if(table, [&](const auto& entry) { return entry.second.locked_until <= now; });
  }

  const ThrottlePolicy policy_;
  const std::size_t max_entries_;
  std::mutex mutex_;
  Table accounts_;
  Table addresses_;
};

}  // namespace

LoginThrottle::LoginThrottle(ThrottlePolicy policy, std::size_t max_entries)
    : policy_(policy), counters_(std::make_unique<MemoryCounters>(policy_, max_entries)) {}

bool LoginThrottle::check(std::string_view account, std::string_view address,
                          Clock::time_point now) {
  auto [by_address, by_account] = counters_->find_both(address, account);
  // The address first: an address over its limit learns nothing about the account.
  if (by_address && by_address->locked_until > now)
    throw AccountLocked(
        Lockout{Lockout::Reason::kAddress, seconds_until(by_address->locked_until, now)});
  if (by_account && by_account->locked_until > now)
    throw AccountLocked(
        Lockout{Lockout::Reason::kAccount, seconds_until(by_account->locked_until, now)});
  return by_account.has_value();
}

void LoginThrottle::failed(std::string_view account, std::string_view address,
                           Clock::time_point now) {
  counters_->update(Kind::kAccount, account, now,
                    [&](Counter& c) { count_failure(c, policy_.max_failures, now); });
  counters_->update(Kind::kAddress, address, now,
                    [&](Counter& c) { count_failure(c, policy_.max_failures_per_address, now); });
}

void LoginThrottle::succeeded(std::string_view account, bool had_failures) {
  // A failure counted since check() (a concurrent wrong guess) stays counted: it came after
  // the failures this success clears.
  if (had_failures) counters_->erase(Kind::kAccount, account);
}

void LoginThrottle::count_failure(Counter& c, int max_failures, Clock::time_point now) const {
  // Quiet for longer than the longest back-off: an old run of failures is forgotten, and the
  // next lock starts again from the first back-off.
  if (c.failures + c.locks > 0 && now - c.last_failure > policy_.lockout_max &&
      c.locked_until <= now) {
    c = Counter{};
  }
  c.last_failure = now;
  if (++c.failures < max_failures) return;
  auto backoff = policy_.lockout;
  for (int i = 0; i < c.locks && backoff < policy_.lockout_max; ++i) backoff *= 2;
  c.locked_until = now + std::min(backoff, policy_.lockout_max);
  c.failures = 0;
  ++c.locks;
}

}  // namespace portico::keymanager

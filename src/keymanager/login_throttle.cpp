#include "keymanager/login_throttle.h"

#include <algorithm>

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

void LoginThrottle::check(std::string_view account, std::string_view address,
                          Clock::time_point now) {
  std::optional<Lockout> refusal;
  {
    std::lock_guard lock(mutex_);
    // The address first: an address over its limit learns nothing about the account.
    if (auto it = addresses_.find(std::string(address));
        it != addresses_.end() && it->second.locked_until > now) {
      refusal = Lockout{Lockout::Reason::kAddress, seconds_until(it->second.locked_until, now)};
    } else if (auto it = accounts_.find(std::string(account));
               it != accounts_.end() && it->second.locked_until > now) {
      refusal = Lockout{Lockout::Reason::kAccount, seconds_until(it->second.locked_until, now)};
    }
  }
  if (refusal) throw AccountLocked(*refusal);
}

void LoginThrottle::failed(std::string_view account, std::string_view address,
                           Clock::time_point now) {
  std::lock_guard lock(mutex_);
  count_failure(accounts_, account, policy_.max_failures, now);
  count_failure(addresses_, address, policy_.max_failures_per_address, now);
}

void LoginThrottle::succeeded(std::string_view account) {
  std::lock_guard lock(mutex_);
  accounts_.erase(std::string(account));
}

void LoginThrottle::count_failure(Table& table, std::string_view key, int max_failures,
                                  Clock::time_point now) {
  auto it = table.find(std::string(key));
  if (it == table.end()) {
    make_room(table, now);
    it = table.emplace(std::string(key), Counter{}).first;
  }
  Counter& c = it->second;
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

void LoginThrottle::make_room(Table& table, Clock::time_point now) {
  if (table.size() < max_entries_) return;
  std::erase_if(table, [&](const auto& entry) {
    const Counter& c = entry.second;
    return c.locked_until <= now && now - c.last_failure > policy_.lockout_max;
  });
  // Bounded memory over perfect memory: unlocked entries go next, locks stay.
  if (table.size() >= max_entries_)
    std::erase_if(table, [&](const auto& entry) { return entry.second.locked_until <= now; });
}

}  // namespace portico::keymanager

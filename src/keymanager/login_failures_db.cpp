// The login throttle's counters in the cluster's database: every node counts into the same
// rows, so a guesser gets the same number of attempts however many nodes it spreads them over.
#include "keymanager/login_throttle.h"
#include "store/login_failures_repository.h"

namespace portico::keymanager {
namespace {

using Clock = LoginThrottle::Clock;

std::int64_t to_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Clock::time_point from_ms(std::int64_t ms) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(ms)));
}

std::string kind_name(LoginThrottle::Kind kind) {
  return kind == LoginThrottle::Kind::kAccount ? "account" : "address";
}

LoginThrottle::Counter counter_of(const store::LoginFailureRecord& r) {
  return {r.failures, r.locks, from_ms(r.locked_until_ms), from_ms(r.last_failure_ms)};
}

class DatabaseCounters final : public LoginThrottle::Counters {
 public:
  explicit DatabaseCounters(store::Database& db) : rows_(db) {}

  std::optional<LoginThrottle::Counter> find(LoginThrottle::Kind kind,
                                             std::string_view key) override {
    auto row = rows_.find(kind_name(kind), std::string(key));
    if (!row) return std::nullopt;
    return counter_of(*row);
  }

  std::pair<std::optional<LoginThrottle::Counter>, std::optional<LoginThrottle::Counter>> find_both(
      std::string_view address, std::string_view account) override {
    auto [by_address, by_account] = rows_.find_both(std::string(address), std::string(account));
    auto counter = [](const std::optional<store::LoginFailureRecord>& r) {
      return r ? std::optional(counter_of(*r)) : std::nullopt;
    };
    return {counter(by_address), counter(by_account)};
  }

  void update(LoginThrottle::Kind kind, std::string_view key, Clock::time_point,
              const std::function<void(LoginThrottle::Counter&)>& change) override {
    rows_.update(kind_name(kind), std::string(key), [&](store::LoginFailureRecord& r) {
      LoginThrottle::Counter c = counter_of(r);
      change(c);
      r = {c.failures, c.locks, to_ms(c.locked_until), to_ms(c.last_failure)};
    });
  }

  void erase(LoginThrottle::Kind kind, std::string_view key) override {
    rows_.remove(kind_name(kind), std::string(key));
  }

 private:
  store::LoginFailuresRepository rows_;
};

}  // namespace

LoginThrottle::LoginThrottle(ThrottlePolicy policy, store::Database& db)
    : policy_(policy), counters_(std::make_unique<DatabaseCounters>(db)) {}

}  // namespace portico::keymanager

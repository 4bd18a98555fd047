#pragma once
// Failed sign-ins counted per account and per source address, shared by every password and
// client-secret check of the process (REST Basic, the gateway's Basic, the password grant, the
// /authorize form, client authentication). An account with too many failures in a row, or an
// address with too many across accounts, is refused before any hashing for a back-off that
// doubles with each lock. The counts are kept in this process's memory, or in the cluster's
// database so that N nodes do not give a guesser N times the attempts.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/api_error.h"

namespace portico::store {
class Database;
}

namespace portico::keymanager {

struct ThrottlePolicy {
  int max_failures = 5;               // per account, in a row
  int max_failures_per_address = 20;  // per source address, across accounts
  std::chrono::seconds lockout{60};   // the first back-off
  std::chrono::seconds lockout_max{3600};
};

// Why a sign-in is refused before its credential is checked.
struct Lockout {
  enum class Reason { kAccount, kAddress };
  Reason reason = Reason::kAccount;
  std::int64_t retry_after_seconds = 0;

  // "Account is locked ...", or the address's equivalent, with when to try again.
  std::string description() const;
};

// Thrown by Users::authenticate and Clients::authenticate for a locked account or address:
// the reference's 401 with code 17003 "Account is locked" (its user store's error code). The
// OAuth endpoints turn it into invalid_grant / invalid_client with the same description.
class AccountLocked : public ApiError {
 public:
  explicit AccountLocked(const Lockout& lockout);
  Lockout lockout;
};

class LoginThrottle {
 public:
  // Wall-clock time: the nodes of a cluster compare each other's lock ends.
  using Clock = std::chrono::system_clock;

  struct Counter {
    int failures = 0;  // since the last lock
    int locks = 0;     // how often the back-off doubled
    Clock::time_point locked_until{};
    Clock::time_point last_failure{};
  };
  enum class Kind { kAccount, kAddress };

  // Where the counters live.
  class Counters {
   public:
    virtual ~Counters() = default;
    virtual std::optional<Counter> find(Kind kind, std::string_view key) = 0;
    // The address's counter and the account's, read together (one query in the database).
    virtual std::pair<std::optional<Counter>, std::optional<Counter>> find_both(
        std::string_view address, std::string_view account) {
      return {find(Kind::kAddress, address), find(Kind::kAccount, account)};
    }
    // Applies `change` to the counter (a fresh one when there is none) and keeps the result,
    // atomically with respect to every other update of it.
    virtual void update(Kind kind, std::string_view key, Clock::time_point now,
                        const std::function<void(Counter&)>& change) = 0;
    virtual void erase(Kind kind, std::string_view key) = 0;
  };

  // Counters in this process's memory, at most `max_entries` per kind.
  explicit LoginThrottle(ThrottlePolicy policy, std::size_t max_entries = 100000);
  // Counters in the cluster's database (store::LoginFailuresRepository).
  LoginThrottle(ThrottlePolicy policy, store::Database& db);

  // Throws AccountLocked when `account` or `address` is locked now. Returns whether the
  // account has failures on record, for succeeded().
  bool check(std::string_view account, std::string_view address,
             Clock::time_point now = Clock::now());
  // A wrong password or secret: counts for both, and may start a lock.
  void failed(std::string_view account, std::string_view address,
              Clock::time_point now = Clock::now());
  // The right one: the account's failures and back-off start again from nothing. The
  // address's count stays, so that one known account cannot launder guesses at others.
  // `had_failures`: what check() returned; nearly every sign-in has none to clear, and then
  // it costs nothing.
  void succeeded(std::string_view account, bool had_failures = true);

  const ThrottlePolicy& policy() const { return policy_; }

 private:
  void count_failure(Counter& c, int max_failures, Clock::time_point now) const;

  const ThrottlePolicy policy_;
  std::unique_ptr<Counters> counters_;
};

}  // namespace portico::keymanager

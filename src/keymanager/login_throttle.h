#pragma once
// Failed sign-ins counted per account and per source address, shared by every password and
// client-secret check of the process (REST Basic, the gateway's Basic, the password grant, the
// /authorize form, client authentication). An account with too many failures in a row, or an
// address with too many across accounts, is refused before any hashing for a back-off that
// doubles with each lock. Kept in memory on this node; a cluster-wide store comes with the
// distributed deployment.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/api_error.h"

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
  using Clock = std::chrono::steady_clock;

  explicit LoginThrottle(ThrottlePolicy policy, std::size_t max_entries = 100000)
      : policy_(policy), max_entries_(max_entries) {}

  // Throws AccountLocked when `account` or `address` is locked now.
  void check(std::string_view account, std::string_view address,
             Clock::time_point now = Clock::now());
  // A wrong password or secret: counts for both, and may start a lock.
  void failed(std::string_view account, std::string_view address,
              Clock::time_point now = Clock::now());
  // The right one: the account's failures and back-off start again from nothing. The
  // address's count stays, so that one known account cannot launder guesses at others.
  void succeeded(std::string_view account);

 private:
  struct Counter {
    int failures = 0;  // since the last lock
    int locks = 0;     // how often the back-off doubled
    Clock::time_point locked_until{};
    Clock::time_point last_failure{};
  };
  using Table = std::unordered_map<std::string, Counter>;

  void count_failure(Table& table, std::string_view key, int max_failures, Clock::time_point now);
  void make_room(Table& table, Clock::time_point now);

  const ThrottlePolicy policy_;
  const std::size_t max_entries_;
  std::mutex mutex_;
  Table accounts_;
  Table addresses_;
};

}  // namespace portico::keymanager

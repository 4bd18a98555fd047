#pragma once
// Failed sign-ins counted per account and per source address, shared by the cluster (the
// key manager's login throttle decides what the counts mean).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "store/database.h"

namespace portico::store {

struct LoginFailureRecord {
  int failures = 0;
  int locks = 0;
  std::int64_t locked_until_ms = 0;  // unix milliseconds
  std::int64_t last_failure_ms = 0;
};

class LoginFailuresRepository {
 public:
  explicit LoginFailuresRepository(Database& db) : db_(db) {}

  // `kind`: "account" or "address".
  std::optional<LoginFailureRecord> find(const std::string& kind, const std::string& name);
  // The "address" record of `address` and the "account" record of `account`, in one query.
  std::pair<std::optional<LoginFailureRecord>, std::optional<LoginFailureRecord>> find_both(
      const std::string& address, const std::string& account);
  // Reads the record (a fresh one when there is none), lets `change` update it and stores it,
  // serialised across the cluster so that failures counted at once on two nodes both count.
  void update(const std::string& kind, const std::string& name,
              const std::function<void(LoginFailureRecord&)>& change);
  void remove(const std::string& kind, const std::string& name);
  // Deletes records not locked after `now_ms` whose last failure is before `quiet_since_ms`;
  // returns how many.
  int purge(std::int64_t now_ms, std::int64_t quiet_since_ms);

 private:
  Database& db_;
};

}  // namespace portico::store

#pragma once
// The internal user store: users with argon2id-hashed passwords and roles. Hashing runs on the
// hashing pool; every sign-in goes through the login throttle.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "keymanager/credential_cache.h"
#include "keymanager/expiring_cache.h"
#include "keymanager/login_throttle.h"
#include "store/users_repository.h"

namespace portico {
class BoundedPool;
}

namespace portico::keymanager {

class Users {
 public:
  Users(store::Database& db, std::chrono::seconds credential_cache_ttl,
        std::chrono::seconds lookup_cache_ttl, BoundedPool& hashing, LoginThrottle& throttle)
      : repository_(db),
        passwords_(credential_cache_ttl, hashing),
        records_(lookup_cache_ttl),
        hashing_(hashing),
        throttle_(throttle) {}

  // Validates and stores a user. ApiError 400 on a bad username or role, 400 with the
  // reference's code 30003 on a password outside the policy (8 to 1024 characters); 409 when
  // the username is taken, in any letter case.
  store::UserRecord create(const std::string& username, const std::string& password,
                           const std::vector<std::string>& roles);
  // The user when the password matches; nullopt otherwise (unknown user included). `source`
  // is the caller's address. AccountLocked, before any hashing, when the account or the
  // address is locked; a wrong password counts towards both, a right one clears the account.
  std::optional<store::UserRecord> authenticate(const std::string& username,
                                                const std::string& password,
                                                std::string_view source);
  std::optional<store::UserRecord> find(const std::string& username);
  // Creates the configured administrator when no user of that name exists yet. Its password
  // is the configuration's, outside the policy if need be (the reference's admin/admin).
  void ensure_admin(const std::string& username, const std::string& password);

  // User management (the Admin component's SCIM endpoints). Every change drops the user's
  // cached record, so the next authentication sees it.
  std::vector<store::UserRecord> list(int limit, int offset) {
    return repository_.list(limit, offset);
  }
  std::int64_t count() { return repository_.count(); }
  std::optional<store::UserRecord> find_by_id(const std::string& id);
  // False when there is no user with that id.
  bool remove(const std::string& id);
  // ApiError 400 on an unknown role, 404 when there is no user with that id.
  store::UserRecord set_roles(const std::string& id, const std::vector<std::string>& roles);
  // ApiError 400 on a password outside the policy, 404 when there is no user with that id.
  void set_password(const std::string& id, const std::string& password);
  // Drops the cached record: another node changed or removed the user.
  void forget(const std::string& username) { records_.erase(username); }

 private:
  store::UsersRepository repository_;
  CredentialCache passwords_;
  ExpiringCache<std::string, store::UserRecord> records_;
  BoundedPool& hashing_;
  LoginThrottle& throttle_;

  store::UserRecord insert(const std::string& username, const std::string& password,
                           const std::vector<std::string>& roles);
  std::string hash_password(const std::string& password);
};

// ApiError 400 (code 30003) unless `password` is 8 to 1024 characters.
void check_password_policy(const std::string& password);

}  // namespace portico::keymanager

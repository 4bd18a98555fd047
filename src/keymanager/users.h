#pragma once
// The internal user store: users with argon2id-hashed passwords and roles.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "keymanager/credential_cache.h"
#include "keymanager/expiring_cache.h"
#include "store/users_repository.h"

namespace portico::keymanager {

class Users {
 public:
  Users(store::Database& db, std::chrono::seconds credential_cache_ttl,
        std::chrono::seconds lookup_cache_ttl)
      : repository_(db), passwords_(credential_cache_ttl), records_(lookup_cache_ttl) {}

  // Validates and stores a user. ApiError 400 on a bad username, password or role;
  // 409 when the username is taken.
  store::UserRecord create(const std::string& username, const std::string& password,
                           const std::vector<std::string>& roles);
  // The user when the password matches; nullopt otherwise (unknown user included).
  std::optional<store::UserRecord> authenticate(const std::string& username,
                                                const std::string& password);
  std::optional<store::UserRecord> find(const std::string& username);
  // Creates the configured administrator when no user of that name exists yet.
  void ensure_admin(const std::string& username, const std::string& password);

 private:
  store::UsersRepository repository_;
  CredentialCache passwords_;
  ExpiringCache<std::string, store::UserRecord> records_;
};

}  // namespace portico::keymanager

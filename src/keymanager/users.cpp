#include "keymanager/users.h"

#include <algorithm>
#include <stdexcept>

#include "common/api_error.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "keymanager/scopes.h"

namespace portico::keymanager {
namespace {

constexpr std::size_t kMaxUsernameLength = 100;
constexpr std::size_t kMinPasswordLength = 5;  // the reference's default password policy
constexpr std::size_t kMaxPasswordLength = 1024;

bool is_valid_username(const std::string& name) {
  if (name.size() < 3 || name.size() > kMaxUsernameLength) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@';
  });
}

// An argon2id hash of a random secret, verified against when the user is unknown, so
// that "no such user" takes as long as "wrong password".
const std::string& decoy_hash() {
  static const std::string hash = crypto::hash_secret(crypto::random_token());
  return hash;
}

}  // namespace

store::UserRecord Users::create(const std::string& username, const std::string& password,
                                const std::vector<std::string>& roles) {
  if (!is_valid_username(username))
    throw ApiError::bad_request(
        "username must be 3 to 100 characters of letters, digits, '.', '_', '-' or '@'");
  if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength)
    throw ApiError::bad_request("password must be 5 to 1024 characters");
  for (auto& role : roles)
    if (!is_known_role(role)) throw ApiError::bad_request("unknown role '" + role + "'");
  store::UserRecord user;
  user.id = crypto::uuid_v4();
  user.username = username;
  user.password_hash = crypto::hash_secret(password);
  user.roles = roles;
  user.created_at = unix_now();
  try {
    repository_.create(user);
  } catch (const store::ConflictError&) {
    throw ApiError::conflict("a user named '" + username + "' already exists");
  }
  return user;
}

std::optional<store::UserRecord> Users::authenticate(const std::string& username,
                                                     const std::string& password) {
  if (username.size() > kMaxUsernameLength || password.size() > kMaxPasswordLength)
    return std::nullopt;
  auto user = find(username);
  if (!user) {
    crypto::verify_secret(decoy_hash(), password);
    return std::nullopt;
  }
  if (!passwords_.verify(user->password_hash, password)) return std::nullopt;
  return user;
}

std::optional<store::UserRecord> Users::find(const std::string& username) {
  if (auto cached = records_.get(username)) return cached;
  auto user = repository_.find_by_username(username);
  if (user) records_.put(username, *user);
  return user;
}

std::optional<store::UserRecord> Users::find_by_id(const std::string& id) {
  return repository_.find_by_id(id);
}

bool Users::remove(const std::string& id) {
  auto user = repository_.find_by_id(id);
  if (!user) return false;
  bool removed = repository_.remove(id);
  records_.erase(user->username);
  return removed;
}

store::UserRecord Users::set_roles(const std::string& id, const std::vector<std::string>& roles) {
  for (auto& role : roles)
    if (!is_known_role(role)) throw ApiError::bad_request("unknown role '" + role + "'");
  auto user = repository_.find_by_id(id);
  if (!user) throw ApiError::not_found("no user with id " + id);
  try {
    repository_.set_roles(id, roles);
  } catch (const std::invalid_argument&) {
    throw ApiError::not_found("no user with id " + id);
  }
  records_.erase(user->username);
  auto updated = repository_.find_by_id(id);
  if (!updated) throw ApiError::not_found("no user with id " + id);
  return *updated;
}

void Users::set_password(const std::string& id, const std::string& password) {
  if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength)
    throw ApiError::bad_request("password must be 5 to 1024 characters");
  auto user = repository_.find_by_id(id);
  if (!user) throw ApiError::not_found("no user with id " + id);
  try {
    repository_.set_password_hash(id, crypto::hash_secret(password));
  } catch (const std::invalid_argument&) {
    throw ApiError::not_found("no user with id " + id);
  }
  records_.erase(user->username);
}

void Users::ensure_admin(const std::string& username, const std::string& password) {
  if (repository_.find_by_username(username)) return;
  create(username, password, {std::string(kRoleAdmin)});
  spdlog::info("created administrator '{}'", username);
  if (password == "admin")
    spdlog::warn("the administrator's password is the default one; change it");
}

}  // namespace portico::keymanager

#include "keymanager/users.h"

#include <algorithm>
#include <stdexcept>

#include "common/api_error.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "http/message.h"
#include "keymanager/scopes.h"

namespace portico::keymanager {
namespace {

constexpr std::size_t kMaxUsernameLength = 100;
constexpr std::size_t kMinPasswordLength = 8;
constexpr std::size_t kMaxPasswordLength = 1024;
// The reference's user store code for a credential outside its password policy.
constexpr long kPasswordPolicyCode = 30003;

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

// One counter for "Alice" and "alice": guesses at case variants add up.
std::string account_key(const std::string& username) {
  std::string key = "user:";
  for (unsigned char c : username) key += static_cast<char>(std::tolower(c));
  return key;
}

}  // namespace

void check_password_policy(const std::string& password) {
  if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength)
    throw ApiError(400, kPasswordPolicyCode, "Password policy violated",
                   "Credential not valid: the password must be 8 to 1024 characters");
}

store::UserRecord Users::create(const std::string& username, const std::string& password,
                                const std::vector<std::string>& roles) {
  if (!is_valid_username(username))
    throw ApiError::bad_request(
        "username must be 3 to 100 characters of letters, digits, '.', '_', '-' or '@'");
  check_password_policy(password);
  return insert(username, password, roles);
}

store::UserRecord Users::insert(const std::string& username, const std::string& password,
                                const std::vector<std::string>& roles) {
  for (auto& role : roles)
    if (!is_known_role(role)) throw ApiError::bad_request("unknown role '" + role + "'");
  auto conflict = [&] {
    return ApiError::conflict("a user named '" + username + "' already exists");
  };
  if (repository_.username_taken_ignoring_case(username)) throw conflict();
  store::UserRecord user;
  user.id = crypto::uuid_v4();
  user.username = username;
  user.password_hash = hash_password(password);
  user.roles = roles;
  user.created_at = unix_now();
  try {
    repository_.create(user);
  } catch (const store::ConflictError&) {
    throw conflict();
  }
  return user;
}

std::string Users::hash_password(const std::string& password) {
  // Keyed by a digest of the password: the request keeps the result, never the password.
  return http::offload(hashing_, "argon2id-hash:" + crypto::sha256_hex(password),
                       [password] { return crypto::hash_secret(password); });
}

std::optional<store::UserRecord> Users::authenticate(const std::string& username,
                                                     const std::string& password,
                                                     std::string_view source) {
  if (username.size() > kMaxUsernameLength || password.size() > kMaxPasswordLength)
    return std::nullopt;
  std::string account = account_key(username);
  bool had_failures = throttle_.check(account, source);
  auto user = find(username);
  bool matches = false;
  if (user) {
    matches = passwords_.verify(user->password_hash, password);
  } else {
    http::offload(hashing_, "argon2id-decoy", [password] {
      crypto::verify_secret(decoy_hash(), password);
      return std::string("0");
    });
  }
  if (!matches) {
    if (http::first_time("failed:" + account)) throttle_.failed(account, source);
    return std::nullopt;
  }
  throttle_.succeeded(account, had_failures);
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
  check_password_policy(password);
  auto user = repository_.find_by_id(id);
  if (!user) throw ApiError::not_found("no user with id " + id);
  std::string hash = hash_password(password);
  try {
    repository_.set_password_hash(id, hash);
  } catch (const std::invalid_argument&) {
    throw ApiError::not_found("no user with id " + id);
  }
  records_.erase(user->username);
}

void Users::ensure_admin(const std::string& username, const std::string& password) {
  if (repository_.find_by_username(username)) return;
  try {
    insert(username, password, {std::string(kRoleAdmin)});
  } catch (const ApiError& e) {
    // Another node starting on the same database created it a moment ago.
    if (e.status == 409) return;
    throw;
  }
  spdlog::info("created administrator '{}'", username);
  if (password == "admin")
    spdlog::warn("the administrator's password is the default one; change it");
}

}  // namespace portico::keymanager

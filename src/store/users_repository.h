#pragma once
// Users of the internal user store and their roles.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct UserRecord {
  std::string id;  // UUID
  std::string username;
  std::string password_hash;  // argon2id encoded
  std::vector<std::string> roles;
  std::int64_t created_at = 0;  // unix seconds
};

class UsersRepository {
 public:
  explicit UsersRepository(Database& db) : db_(db) {}
  // Throws ConflictError when the username is taken.
  void create(const UserRecord& user);
  std::optional<UserRecord> find_by_username(const std::string& username);
  // Whether a user name differing from `username` at most in ASCII case exists.
  bool username_taken_ignoring_case(const std::string& username);
  std::optional<UserRecord> find_by_id(const std::string& id);
  std::vector<UserRecord> list(int limit, int offset);
  std::int64_t count();
  // Both throw std::invalid_argument when there is no user with that id.
  void set_roles(const std::string& id, const std::vector<std::string>& roles);
  void set_password_hash(const std::string& id, const std::string& password_hash);
  bool remove(const std::string& id);

 private:
  Database& db_;
};

}  // namespace portico::store

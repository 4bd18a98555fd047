#include "store/users_repository.h"

#include <soci/soci.h>

#include <map>
#include <set>
#include <stdexcept>

#include "store/one_time_statement.h"

namespace portico::store {
namespace {

constexpr const char* kSelectUser = "SELECT id, username, password_hash, created_at FROM users";

// `where` is one of the constant conditions below, never caller text.
bool fetch_user(soci::session& sql, const char* where, const std::string& value, UserRecord& user) {
  sql << std::string(kSelectUser) + " WHERE " + where, soci::into(user.id),
      soci::into(user.username), soci::into(user.password_hash), soci::into(user.created_at),
      soci::use(value);
  return sql.got_data();
}

std::vector<std::string> read_roles(soci::session& sql, const std::string& user_id) {
  std::vector<std::string> roles;
  std::string role;
  soci::statement st = one_time_statement(sql,
                                          "SELECT role FROM user_roles WHERE user_id = :id "
                                          "ORDER BY role",
                                          soci::into(role), soci::use(user_id));
  st.execute();
  while (st.fetch()) roles.push_back(role);
  return roles;
}

void insert_roles(soci::session& sql, const std::string& user_id,
                  const std::vector<std::string>& roles) {
  // A set: the same role twice would break the (user_id, role) key.
  for (const std::string& role : std::set<std::string>(roles.begin(), roles.end())) {
    sql << "INSERT INTO user_roles (user_id, role) VALUES (:u, :r)", soci::use(user_id),
        soci::use(role);
  }
}

bool user_exists(soci::session& sql, const std::string& id) {
  int n = 0;
  sql << "SELECT COUNT(*) FROM users WHERE id = :id", soci::into(n), soci::use(id);
  return n > 0;
}

std::optional<UserRecord> find_by(Database& db, const char* where, const std::string& value) {
  std::optional<UserRecord> found;
  db.with_session([&](soci::session& sql) {
    UserRecord user;
    if (!fetch_user(sql, where, value, user)) return;
    user.roles = read_roles(sql, user.id);
    found = std::move(user);
  });
  return found;
}

}  // namespace

void UsersRepository::create(const UserRecord& user) {
  db_.in_transaction([&](soci::session& sql) {
    sql << "INSERT INTO users (id, username, password_hash, created_at) "
           "VALUES (:id, :username, :hash, :created)",
        soci::use(user.id), soci::use(user.username), soci::use(user.password_hash),
        soci::use(user.created_at);
    insert_roles(sql, user.id, user.roles);
  });
}

std::optional<UserRecord> UsersRepository::find_by_username(const std::string& username) {
  return find_by(db_, "username = :v", username);
}

bool UsersRepository::username_taken_ignoring_case(const std::string& username) {
  int n = 0;
  db_.with_session([&](soci::session& sql) {
    // lower() folds ASCII alike in SQLite and PostgreSQL; user names are ASCII.
    sql << "SELECT COUNT(*) FROM users WHERE lower(username) = lower(:u)", soci::into(n),
        soci::use(username);
  });
  return n > 0;
}

std::optional<UserRecord> UsersRepository::find_by_id(const std::string& id) {
  return find_by(db_, "id = :v", id);
}

std::vector<UserRecord> UsersRepository::list(int limit, int offset) {
  std::vector<UserRecord> users;
  if (limit <= 0) return users;
  offset = std::max(0, offset);
  db_.with_session([&](soci::session& sql) {
    UserRecord row;
    soci::statement users_st = one_time_statement(
        sql, std::string(kSelectUser) + " ORDER BY username LIMIT :limit OFFSET :offset",
        soci::into(row.id), soci::into(row.username), soci::into(row.password_hash),
        soci::into(row.created_at), soci::use(limit), soci::use(offset));
    users_st.execute();
    std::map<std::string, std::size_t> index;
    while (users_st.fetch()) {
      index[row.id] = users.size();
      users.push_back(row);
    }
    if (users.empty()) return;

    // The roles of the whole page in one query rather than one per user.
    std::string user_id, role;
    soci::statement roles_st = one_time_statement(
        sql,
        "SELECT user_id, role FROM user_roles WHERE user_id IN "
        "(SELECT id FROM users ORDER BY username LIMIT :limit OFFSET :offset) "
        "ORDER BY user_id, role",
        soci::into(user_id), soci::into(role), soci::use(limit), soci::use(offset));
    roles_st.execute();
    while (roles_st.fetch()) {
      // A user created between the two queries may shift the page; skip who is not on it.
      if (auto it = index.find(user_id); it != index.end()) {
        users[it->second].roles.push_back(role);
      }
    }
  });
  return users;
}

std::int64_t UsersRepository::count() {
  long long n = 0;
  db_.with_session([&](soci::session& sql) { sql << "SELECT COUNT(*) FROM users", soci::into(n); });
  return n;
}

void UsersRepository::set_roles(const std::string& id, const std::vector<std::string>& roles) {
  db_.in_transaction([&](soci::session& sql) {
    if (!user_exists(sql, id)) throw std::invalid_argument("no user with id " + id);
    sql << "DELETE FROM user_roles WHERE user_id = :id", soci::use(id);
    insert_roles(sql, id, roles);
  });
}

void UsersRepository::set_password_hash(const std::string& id, const std::string& password_hash) {
  db_.with_session([&](soci::session& sql) {
    soci::statement st =
        one_time_statement(sql, "UPDATE users SET password_hash = :hash WHERE id = :id",
                           soci::use(password_hash), soci::use(id));
    st.execute(true);
    if (st.get_affected_rows() == 0) throw std::invalid_argument("no user with id " + id);
  });
}

bool UsersRepository::remove(const std::string& id) {
  bool removed = false;
  db_.in_transaction([&](soci::session& sql) {
    // The schema's ON DELETE CASCADE does this only where foreign keys are enforced, which
    // on SQLite is a per-connection setting.
    sql << "DELETE FROM user_roles WHERE user_id = :id", soci::use(id);
    soci::statement st = one_time_statement(sql, "DELETE FROM users WHERE id = :id", soci::use(id));
    st.execute(true);
    removed = st.get_affected_rows() > 0;
  });
  return removed;
}

}  // namespace portico::store

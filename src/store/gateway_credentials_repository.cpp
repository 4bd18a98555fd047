#include "store/gateway_credentials_repository.h"

#include <soci/soci.h>

#include "store/one_time_statement.h"

namespace portico::store {
namespace {

constexpr const char* kSelect =
    "SELECT id, username, secret_hash, name, environment, created_time, revoked_time "
    "FROM gateway_credentials";

std::optional<GatewayCredentialRecord> find_where(Database& db, const char* where,
                                                  const std::string& value) {
  std::optional<GatewayCredentialRecord> found;
  db.with_session([&](soci::session& sql) {
    GatewayCredentialRecord r;
    sql << std::string(kSelect) + " WHERE " + where, soci::into(r.id), soci::into(r.username),
        soci::into(r.secret_hash), soci::into(r.name), soci::into(r.environment),
        soci::into(r.created_time), soci::into(r.revoked_time), soci::use(value);
    if (sql.got_data()) found = std::move(r);
  });
  return found;
}

}  // namespace

void GatewayCredentialsRepository::create(const GatewayCredentialRecord& r) {
  db_.in_transaction([&](soci::session& sql) {
    sql << "INSERT INTO gateway_credentials (id, username, secret_hash, name, environment, "
           "created_time, revoked_time) VALUES (:id, :u, :h, :n, :e, :c, 0)",
        soci::use(r.id), soci::use(r.username), soci::use(r.secret_hash), soci::use(r.name),
        soci::use(r.environment), soci::use(r.created_time);
  });
}

std::vector<GatewayCredentialRecord> GatewayCredentialsRepository::list() {
  std::vector<GatewayCredentialRecord> out;
  db_.with_session([&](soci::session& sql) {
    GatewayCredentialRecord r;
    soci::statement st = one_time_statement(
        sql, std::string(kSelect) + " ORDER BY created_time, id", soci::into(r.id),
        soci::into(r.username), soci::into(r.secret_hash), soci::into(r.name),
        soci::into(r.environment), soci::into(r.created_time), soci::into(r.revoked_time));
    st.execute();
    while (st.fetch()) out.push_back(r);
  });
  return out;
}

std::optional<GatewayCredentialRecord> GatewayCredentialsRepository::find(const std::string& id) {
  return find_where(db_, "id = :v", id);
}

std::optional<GatewayCredentialRecord> GatewayCredentialsRepository::find_by_username(
    const std::string& username) {
  return find_where(db_, "username = :v", username);
}

bool GatewayCredentialsRepository::revoke(const std::string& id, std::int64_t now) {
  bool revoked = false;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st = one_time_statement(sql,
                                            "UPDATE gateway_credentials SET revoked_time = :t "
                                            "WHERE id = :id AND revoked_time = 0",
                                            soci::use(now), soci::use(id));
    st.execute(true);
    revoked = st.get_affected_rows() > 0;
  });
  return revoked;
}

}  // namespace portico::store

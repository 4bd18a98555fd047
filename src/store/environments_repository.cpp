#include "store/environments_repository.h"

#include <soci/soci.h>

#include "store/one_time_statement.h"

namespace portico::store {
namespace {

constexpr const char* kSelect = "SELECT id, name, document, created_time FROM gateway_environments";

void insert(soci::session& sql, const EnvironmentRecord& e) {
  sql << "INSERT INTO gateway_environments (id, name, document, created_time) "
         "VALUES (:id, :name, :document, :created)",
      soci::use(e.id), soci::use(e.name), soci::use(e.document), soci::use(e.created_time);
}

std::optional<EnvironmentRecord> find_where(Database& db, const char* where,
                                            const std::string& value) {
  std::optional<EnvironmentRecord> found;
  db.with_session([&](soci::session& sql) {
    EnvironmentRecord r;
    sql << std::string(kSelect) + " WHERE " + where, soci::into(r.id), soci::into(r.name),
        soci::into(r.document), soci::into(r.created_time), soci::use(value);
    if (sql.got_data()) found = std::move(r);
  });
  return found;
}

}  // namespace

void EnvironmentsRepository::create(const EnvironmentRecord& environment) {
  db_.in_transaction([&](soci::session& sql) { insert(sql, environment); });
}

bool EnvironmentsRepository::create_if_missing(const EnvironmentRecord& environment) {
  bool created = false;
  db_.in_transaction([&](soci::session& sql) {
    int n = 0;
    sql << "SELECT COUNT(*) FROM gateway_environments WHERE name = :n", soci::into(n),
        soci::use(environment.name);
    created = n == 0;
    if (created) insert(sql, environment);
  });
  return created;
}

std::optional<EnvironmentRecord> EnvironmentsRepository::find(const std::string& id) {
  return find_where(db_, "id = :v", id);
}

std::optional<EnvironmentRecord> EnvironmentsRepository::find_by_name(const std::string& name) {
  return find_where(db_, "name = :v", name);
}

std::vector<EnvironmentRecord> EnvironmentsRepository::list() {
  std::vector<EnvironmentRecord> out;
  db_.with_session([&](soci::session& sql) {
    EnvironmentRecord r;
    soci::statement st =
        one_time_statement(sql, std::string(kSelect) + " ORDER BY name", soci::into(r.id),
                           soci::into(r.name), soci::into(r.document), soci::into(r.created_time));
    st.execute();
    while (st.fetch()) out.push_back(r);
  });
  return out;
}

std::vector<EnvironmentRecord> EnvironmentsRepository::list_after(const std::string& after,
                                                                  int limit) {
  std::vector<EnvironmentRecord> out;
  if (limit <= 0) return out;
  db_.with_session([&](soci::session& sql) {
    EnvironmentRecord r;
    soci::statement st = one_time_statement(
        sql, std::string(kSelect) + " WHERE id > :after ORDER BY id LIMIT :limit", soci::into(r.id),
        soci::into(r.name), soci::into(r.document), soci::into(r.created_time), soci::use(after),
        soci::use(limit));
    st.execute();
    while (st.fetch()) out.push_back(r);
  });
  return out;
}

bool EnvironmentsRepository::update_document(const std::string& id, const std::string& document) {
  bool updated = false;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st =
        one_time_statement(sql, "UPDATE gateway_environments SET document = :d WHERE id = :id",
                           soci::use(document), soci::use(id));
    st.execute(true);
    updated = st.get_affected_rows() > 0;
  });
  return updated;
}

EnvironmentRemoval EnvironmentsRepository::remove_unless_used(const std::string& id) {
  EnvironmentRemoval outcome = EnvironmentRemoval::not_found;
  db_.in_transaction([&](soci::session& sql) {
    std::string name;
    sql << "SELECT name FROM gateway_environments WHERE id = :id", soci::into(name), soci::use(id);
    if (!sql.got_data()) {
      outcome = EnvironmentRemoval::not_found;
      return;
    }
    long long deployments = 0;
    sql << "SELECT COUNT(*) FROM api_deployments WHERE environment = :n", soci::into(deployments),
        soci::use(name);
    if (deployments > 0) {
      outcome = EnvironmentRemoval::in_use;
      return;
    }
    sql << "DELETE FROM gateway_environments WHERE id = :id", soci::use(id);
    outcome = EnvironmentRemoval::removed;
  });
  return outcome;
}

}  // namespace portico::store

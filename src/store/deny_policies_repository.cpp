#include "store/deny_policies_repository.h"

#include <soci/soci.h>

#include "store/one_time_statement.h"

namespace portico::store {
namespace {

constexpr const char* kSelect =
    "SELECT id, condition_type, condition_value, enabled, created_time FROM deny_policies";

// Reads `enabled` through an integer: the column is INTEGER on SQLite and BIGINT on PostgreSQL.
struct Row {
  DenyPolicyRecord record;
  long long enabled = 0;
  DenyPolicyRecord get() const {
    DenyPolicyRecord r = record;
    r.enabled = enabled != 0;
    return r;
  }
};

std::vector<DenyPolicyRecord> query(Database& db, const std::string* after, int limit) {
  std::vector<DenyPolicyRecord> out;
  db.with_session([&](soci::session& sql) {
    Row row;
    auto fetch = [&](soci::statement& st) {
      st.execute();
      while (st.fetch()) out.push_back(row.get());
    };
    if (after == nullptr) {
      soci::statement st = one_time_statement(
          sql, std::string(kSelect) + " ORDER BY created_time, id", soci::into(row.record.id),
          soci::into(row.record.condition_type), soci::into(row.record.condition_value),
          soci::into(row.enabled), soci::into(row.record.created_time));
      fetch(st);
    } else {
      soci::statement st = one_time_statement(
          sql, std::string(kSelect) + " WHERE id > :after ORDER BY id LIMIT :limit",
          soci::into(row.record.id), soci::into(row.record.condition_type),
          soci::into(row.record.condition_value), soci::into(row.enabled),
          soci::into(row.record.created_time), soci::use(*after), soci::use(limit));
      fetch(st);
    }
  });
  return out;
}

}  // namespace

void DenyPoliciesRepository::create(const DenyPolicyRecord& p) {
  long long enabled = p.enabled ? 1 : 0;
  db_.in_transaction([&](soci::session& sql) {
    sql << "INSERT INTO deny_policies (id, condition_type, condition_value, enabled, "
           "created_time) VALUES (:id, :type, :value, :enabled, :created)",
        soci::use(p.id), soci::use(p.condition_type), soci::use(p.condition_value),
        soci::use(enabled), soci::use(p.created_time);
  });
}

std::optional<DenyPolicyRecord> DenyPoliciesRepository::find(const std::string& id) {
  std::optional<DenyPolicyRecord> found;
  db_.with_session([&](soci::session& sql) {
    Row row;
    sql << std::string(kSelect) + " WHERE id = :id", soci::into(row.record.id),
        soci::into(row.record.condition_type), soci::into(row.record.condition_value),
        soci::into(row.enabled), soci::into(row.record.created_time), soci::use(id);
    if (sql.got_data()) found = row.get();
  });
  return found;
}

std::vector<DenyPolicyRecord> DenyPoliciesRepository::list() {
  return query(db_, nullptr, 0);
}

std::vector<DenyPolicyRecord> DenyPoliciesRepository::list_after(const std::string& after,
                                                                 int limit) {
  if (limit <= 0) return {};
  return query(db_, &after, limit);
}

bool DenyPoliciesRepository::set_enabled(const std::string& id, bool enabled) {
  long long value = enabled ? 1 : 0;
  bool updated = false;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st =
        one_time_statement(sql, "UPDATE deny_policies SET enabled = :e WHERE id = :id",
                           soci::use(value), soci::use(id));
    st.execute(true);
    updated = st.get_affected_rows() > 0;
  });
  return updated;
}

bool DenyPoliciesRepository::remove(const std::string& id) {
  bool removed = false;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st =
        one_time_statement(sql, "DELETE FROM deny_policies WHERE id = :id", soci::use(id));
    st.execute(true);
    removed = st.get_affected_rows() > 0;
  });
  return removed;
}

}  // namespace portico::store

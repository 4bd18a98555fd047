#include "store/applications_repository.h"

#include <soci/soci.h>

#include "store/one_time_statement.h"

namespace portico::store {
namespace {

constexpr const char* kSelectApplication =
    "SELECT id, name, owner, throttling_policy, token_type, status, document, created_time, "
    "updated_time FROM applications ";

struct ApplicationRow {
  ApplicationRecord record;
  long long created = 0;
  long long updated = 0;
};

ApplicationRecord finish(ApplicationRow& row) {
  row.record.created_time = row.created;
  row.record.updated_time = row.updated;
  return row.record;
}

// LIKE pattern for a substring, with the pattern's own wildcards escaped.
std::string like_pattern(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

}  // namespace

void ApplicationsRepository::create(const ApplicationRecord& a) {
  long long created = a.created_time, updated = a.updated_time;
  db_.in_transaction([&](soci::session& sql) {
    sql << "INSERT INTO applications (id, name, owner, throttling_policy, token_type, status, "
           "document, created_time, updated_time) VALUES (:id, :name, :owner, :policy, :type, "
           ":status, :document, :created, :updated)",
        soci::use(a.id), soci::use(a.name), soci::use(a.owner), soci::use(a.throttling_policy),
        soci::use(a.token_type), soci::use(a.status), soci::use(a.document), soci::use(created),
        soci::use(updated);
  });
}

std::optional<ApplicationRecord> ApplicationsRepository::find(const std::string& id) {
  std::optional<ApplicationRecord> found;
  db_.with_session([&](soci::session& sql) {
    ApplicationRow row;
    soci::statement st = one_time_statement(
        sql, std::string(kSelectApplication) + "WHERE id = :id", soci::into(row.record.id),
        soci::into(row.record.name), soci::into(row.record.owner),
        soci::into(row.record.throttling_policy), soci::into(row.record.token_type),
        soci::into(row.record.status), soci::into(row.record.document), soci::into(row.created),
        soci::into(row.updated), soci::use(id));
    if (st.execute(true)) found = finish(row);
  });
  return found;
}

std::optional<ApplicationRecord> ApplicationsRepository::find_owned(const std::string& id,
                                                                    const std::string& owner) {
  auto found = find(id);
  if (found && found->owner != owner) return std::nullopt;
  return found;
}

std::vector<ApplicationRecord> ApplicationsRepository::list_owned(const std::string& owner,
                                                                  const std::string& name_filter,
                                                                  std::int64_t limit,
                                                                  std::int64_t offset) {
  std::vector<ApplicationRecord> out;
  long long lim = limit, off = offset;
  std::string pattern = like_pattern(name_filter);
  db_.with_session([&](soci::session& sql) {
    ApplicationRow row;
    soci::statement st = one_time_statement(
        sql,
        std::string(kSelectApplication) +
            "WHERE owner = :owner AND name LIKE :pattern ESCAPE '\\' "
            "ORDER BY name, id LIMIT :limit OFFSET :offset",
        soci::into(row.record.id), soci::into(row.record.name), soci::into(row.record.owner),
        soci::into(row.record.throttling_policy), soci::into(row.record.token_type),
        soci::into(row.record.status), soci::into(row.record.document), soci::into(row.created),
        soci::into(row.updated), soci::use(owner), soci::use(pattern), soci::use(lim),
        soci::use(off));
    st.execute();
    while (st.fetch()) out.push_back(finish(row));
  });
  return out;
}

std::int64_t ApplicationsRepository::count_owned(const std::string& owner,
                                                 const std::string& name_filter) {
  long long n = 0;
  std::string pattern = like_pattern(name_filter);
  db_.with_session([&](soci::session& sql) {
    sql << "SELECT COUNT(*) FROM applications WHERE owner = :owner AND name LIKE :pattern "
           "ESCAPE '\\'",
        soci::into(n), soci::use(owner), soci::use(pattern);
  });
  return n;
}

bool ApplicationsRepository::update(const ApplicationRecord& a) {
  long long updated = a.updated_time;
  int changed = 0;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st = one_time_statement(
        sql,
        "UPDATE applications SET name = :name, throttling_policy = :policy, "
        "token_type = :type, document = :document, updated_time = :updated "
        "WHERE id = :id",
        soci::use(a.name), soci::use(a.throttling_policy), soci::use(a.token_type),
        soci::use(a.document), soci::use(updated), soci::use(a.id));
    st.execute(true);
    changed = static_cast<int>(st.get_affected_rows());
  });
  return changed > 0;
}

bool ApplicationsRepository::remove(const std::string& id) {
  int changed = 0;
  db_.in_transaction([&](soci::session& sql) {
    // Explicit rather than ON DELETE CASCADE alone, so both backends behave the same.
    sql << "DELETE FROM subscriptions WHERE application_id = :id", soci::use(id);
    sql << "DELETE FROM application_key_mappings WHERE application_id = :id", soci::use(id);
    soci::statement st =
        one_time_statement(sql, "DELETE FROM applications WHERE id = :id", soci::use(id));
    st.execute(true);
    changed = static_cast<int>(st.get_affected_rows());
  });
  return changed > 0;
}

void ApplicationsRepository::add_key_mapping(const KeyMappingRecord& m) {
  long long created = m.created_time;
  db_.in_transaction([&](soci::session& sql) {
    sql << "INSERT INTO application_key_mappings (id, application_id, key_type, client_id, "
           "document, created_time) VALUES (:id, :app, :type, :client, :document, :created)",
        soci::use(m.id), soci::use(m.application_id), soci::use(m.key_type), soci::use(m.client_id),
        soci::use(m.document), soci::use(created);
  });
}

std::vector<KeyMappingRecord> ApplicationsRepository::key_mappings(
    const std::string& application_id) {
  std::vector<KeyMappingRecord> out;
  db_.with_session([&](soci::session& sql) {
    KeyMappingRecord row;
    long long created = 0;
    soci::statement st = one_time_statement(
        sql,
        "SELECT id, application_id, key_type, client_id, document, created_time "
        "FROM application_key_mappings WHERE application_id = :app "
        "ORDER BY key_type",
        soci::into(row.id), soci::into(row.application_id), soci::into(row.key_type),
        soci::into(row.client_id), soci::into(row.document), soci::into(created),
        soci::use(application_id));
    st.execute();
    while (st.fetch()) {
      row.created_time = created;
      out.push_back(row);
    }
  });
  return out;
}

std::optional<KeyMappingRecord> ApplicationsRepository::find_key_mapping(
    const std::string& application_id, const std::string& key_mapping_id) {
  for (auto& m : key_mappings(application_id)) {
    if (m.id == key_mapping_id) return m;
  }
  return std::nullopt;
}

bool ApplicationsRepository::remove_key_mapping(const std::string& key_mapping_id) {
  int changed = 0;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st = one_time_statement(
        sql, "DELETE FROM application_key_mappings WHERE id = :id", soci::use(key_mapping_id));
    st.execute(true);
    changed = static_cast<int>(st.get_affected_rows());
  });
  return changed > 0;
}

}  // namespace portico::store

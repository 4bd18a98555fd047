#include "store/api_documents_repository.h"

#include <soci/soci.h>

#include "store/one_time_statement.h"

namespace portico::store {

void ApiDocumentsRepository::create(const ApiDocumentRecord& d) {
  db_.in_transaction([&](soci::session& sql) {
    std::int64_t taken = 0;
    sql << "SELECT COUNT(*) FROM api_documents WHERE api_id = :api AND name = :name",
        soci::into(taken), soci::use(d.api_id), soci::use(d.name);
    if (taken > 0) throw ConflictError("a document of that name exists");
    sql << "INSERT INTO api_documents (id, api_id, name, document, content, created_time) "
           "VALUES (:id, :api, :name, :doc, :content, :time)",
        soci::use(d.id), soci::use(d.api_id), soci::use(d.name), soci::use(d.document),
        soci::use(d.content), soci::use(d.created_time);
  });
}

std::vector<ApiDocumentRecord> ApiDocumentsRepository::list(const std::string& api_id,
                                                            std::int64_t limit,
                                                            std::int64_t offset) {
  std::vector<ApiDocumentRecord> out;
  db_.with_session([&](soci::session& sql) {
    ApiDocumentRecord d;
    soci::statement st = one_time_statement(
        sql,
        "SELECT id, api_id, name, document, created_time FROM api_documents "
        "WHERE api_id = :api ORDER BY created_time, id LIMIT :limit OFFSET :off",
        soci::into(d.id), soci::into(d.api_id), soci::into(d.name), soci::into(d.document),
        soci::into(d.created_time), soci::use(api_id), soci::use(limit), soci::use(offset));
    st.execute();
    while (st.fetch()) out.push_back(d);
  });
  return out;
}

std::int64_t ApiDocumentsRepository::count(const std::string& api_id) {
  std::int64_t n = 0;
  db_.with_session([&](soci::session& sql) {
    sql << "SELECT COUNT(*) FROM api_documents WHERE api_id = :api", soci::into(n),
        soci::use(api_id);
  });
  return n;
}

std::optional<ApiDocumentRecord> ApiDocumentsRepository::find(const std::string& api_id,
                                                              const std::string& id) {
  std::optional<ApiDocumentRecord> out;
  db_.with_session([&](soci::session& sql) {
    ApiDocumentRecord d;
    sql << "SELECT id, api_id, name, document, content, created_time FROM api_documents WHERE "
           "api_id = :api AND id = :id",
        soci::into(d.id), soci::into(d.api_id), soci::into(d.name), soci::into(d.document),
        soci::into(d.content), soci::into(d.created_time), soci::use(api_id), soci::use(id);
    if (sql.got_data()) out = std::move(d);
  });
  return out;
}

bool ApiDocumentsRepository::update(const ApiDocumentRecord& d) {
  bool updated = false;
  db_.in_transaction([&](soci::session& sql) {
    std::int64_t taken = 0;
    sql << "SELECT COUNT(*) FROM api_documents WHERE api_id = :api AND name = :name AND id <> "
           ":id",
        soci::into(taken), soci::use(d.api_id), soci::use(d.name), soci::use(d.id);
    if (taken > 0) throw ConflictError("a document of that name exists");
    soci::statement st = one_time_statement(
        sql,
        "UPDATE api_documents SET name = :name, document = :doc "
        "WHERE api_id = :api AND id = :id",
        soci::use(d.name), soci::use(d.document), soci::use(d.api_id), soci::use(d.id));
    st.execute(true);
    updated = st.get_affected_rows() > 0;
  });
  return updated;
}

bool ApiDocumentsRepository::set_content(const std::string& api_id, const std::string& id,
                                         const std::string& document, const std::string& content) {
  bool updated = false;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st = one_time_statement(sql,
                                            "UPDATE api_documents SET document = :doc, content = "
                                            ":content WHERE api_id = :api AND id = :id",
                                            soci::use(document), soci::use(content),
                                            soci::use(api_id), soci::use(id));
    st.execute(true);
    updated = st.get_affected_rows() > 0;
  });
  return updated;
}

bool ApiDocumentsRepository::remove(const std::string& api_id, const std::string& id) {
  bool removed = false;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st =
        one_time_statement(sql, "DELETE FROM api_documents WHERE api_id = :api AND id = :id",
                           soci::use(api_id), soci::use(id));
    st.execute(true);
    removed = st.get_affected_rows() > 0;
  });
  return removed;
}

}  // namespace portico::store

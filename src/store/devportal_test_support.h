#pragma once
// Rows the developer portal's repository tests need from tables other components own.
#include <soci/soci.h>

#include <string>

#include "store/database.h"

namespace portico::store::testing {

// An API row as the publisher would store it (only the columns the portal reads matter).
inline void insert_api(Database& db, const std::string& id, const std::string& name,
                       const std::string& status, const std::string& visibility = "PUBLIC",
                       const std::string& description = "") {
  db.in_transaction([&](soci::session& sql) {
    std::string version = "1.0.0", context = "/" + name, provider = "admin", doc = "{}", empty;
    long long zero = 0, created = 1700000000;
    sql << "INSERT INTO apis (id, name, version, context, provider, lifecycle_status, "
           "visibility, is_default_version, description, document, openapi, thumbnail_type, "
           "thumbnail, created_time, updated_time) VALUES (:id, :name, :version, :context, "
           ":provider, :status, :visibility, :zero, :description, :doc, :openapi, :ttype, "
           ":thumb, :created, :updated)",
        soci::use(id), soci::use(name), soci::use(version), soci::use(context), soci::use(provider),
        soci::use(status), soci::use(visibility), soci::use(zero), soci::use(description),
        soci::use(doc), soci::use(empty), soci::use(empty), soci::use(empty), soci::use(created),
        soci::use(created);
  });
}

inline void insert_api_row(Database& db, const std::string& table, const std::string& api_id,
                           const std::string& column, const std::string& value) {
  db.in_transaction([&](soci::session& sql) {
    sql << "INSERT INTO " + table + " (api_id, " + column + ") VALUES (:a, :v)", soci::use(api_id),
        soci::use(value);
  });
}

}  // namespace portico::store::testing

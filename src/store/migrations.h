#pragma once
// Internal to the store: the migration files compiled into the binary, and how one file is
// cut into statements.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct EmbeddedMigration {
  Backend backend;
  int version;       // from the file name's NNNN_ prefix
  const char* name;  // the file name without ".sql"
  const char* sql;
};

// Generated at build time from migrations/<backend>/NNNN_<name>.sql (see CMakeLists.txt).
extern const EmbeddedMigration kEmbeddedMigrations[];
extern const std::size_t kEmbeddedMigrationCount;

// The migrations of one backend in ascending version order. Throws std::logic_error when two
// files share a version, which a build should never ship.
std::vector<EmbeddedMigration> migrations_for(Backend backend);

// Splits a migration file into statements at each ';' that ends a line, and drops comment
// lines. Our migrations hold no procedures, so no statement has a ';' at a line end inside it.
std::vector<std::string> split_sql_statements(std::string_view sql);

}  // namespace portico::store

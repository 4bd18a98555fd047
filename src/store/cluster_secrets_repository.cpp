#include "store/cluster_secrets_repository.h"

#include <soci/soci.h>

#include <stdexcept>

namespace portico::store {

std::string ClusterSecretsRepository::get_or_create(const std::string& name,
                                                    const std::string& candidate,
                                                    std::int64_t now) {
  std::string value;
  db_.in_transaction([&](soci::session& sql) {
    // Both SQLite (3.24+) and PostgreSQL: a second node's insert changes nothing.
    sql << "INSERT INTO cluster_secrets (name, value, created_at) VALUES (:n, :v, :t) "
           "ON CONFLICT (name) DO NOTHING",
        soci::use(name), soci::use(candidate), soci::use(now);
    sql << "SELECT value FROM cluster_secrets WHERE name = :n", soci::into(value), soci::use(name);
    if (!sql.got_data()) throw std::runtime_error("cluster secret '" + name + "' not stored");
  });
  return value;
}

}  // namespace portico::store

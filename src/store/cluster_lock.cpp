#include "store/cluster_lock.h"

#include <soci/soci.h>

#include <cstdint>

namespace portico::store {

void hold_cluster_lock(Database& db, soci::session& sql, std::string_view name) {
  if (db.backend() != Backend::postgresql) return;
  // A fixed 64-bit FNV-1a of the name: the same lock in every process and build.
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : name) hash = (hash ^ c) * 1099511628211ULL;
  long long key = static_cast<long long>(hash);
  sql << "SELECT pg_advisory_xact_lock(:key)", soci::use(key);
}

}  // namespace portico::store

#pragma once
// Serialising a write with the same write on every other node of the cluster.
#include <string_view>

#include "store/database.h"

namespace portico::store {

// Inside db.in_transaction(): waits for, then holds until the transaction ends, the lock named
// `name`, so that transactions holding the same name run one at a time in every process
// (PostgreSQL: a transaction-scoped advisory lock). SQLite's write transaction admits one
// writer anyway.
void hold_cluster_lock(Database& db, soci::session& sql, std::string_view name);

}  // namespace portico::store

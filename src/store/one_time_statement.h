#pragma once
// A statement that runs as a one-time query, without a prepared statement on the server.
//
// `soci::statement st = (sql.prepare << ...)` makes SOCI's PostgreSQL backend PREPARE a named
// statement, execute it and DEALLOCATE it when `st` goes away: three round trips, and two
// statements for the server to parse, for a query that runs once. The repositories build
// their statements per call, so they run them as one-time queries instead (one round trip,
// PQexecParams). SQLite prepares either way.
#include <soci/soci.h>

#include <string>
#include <utility>

namespace portico::store {

// For a statement whose elements were exchanged one by one: st.alloc(), st.prepare(query) as
// a one-time query, st.define_and_bind().
inline void prepare_one_time(soci::statement& st, const std::string& query) {
  st.alloc();
  st.prepare(query, soci::details::st_one_time_query);
  st.define_and_bind();
}

// `one_time_statement(sql, query, soci::into(...), soci::use(...))` in place of
// `(sql.prepare << query, soci::into(...), soci::use(...))`; execute and fetch as usual.
template <typename... Elements>
soci::statement one_time_statement(soci::session& sql, const std::string& query,
                                   Elements&&... elements) {
  soci::statement st(sql);
  (st.exchange(std::forward<Elements>(elements)), ...);
  prepare_one_time(st, query);
  return st;
}

}  // namespace portico::store

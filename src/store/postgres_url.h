#pragma once
// Internal to the store: turns the PostgreSQL URL of the configuration into a libpq
// keyword/value connection string.
#include <string>

namespace portico::store {

// "postgresql://user:pass@host:port/db?param=value" (or "postgres://") to
// "host='host' port='port' dbname='db' user='user' password='pass' param='value'", with
// percent-escapes decoded and values quoted. Adds connect_timeout when the URL has none, so
// that an unreachable server fails in bounded time. Throws std::invalid_argument on a
// malformed URL.
//
// Why not hand libpq the URL itself: SOCI 4.0.3's PostgreSQL backend parses the connection
// string as key=value pairs first and mangles a URL (it turns ".../portico_test" into
// "dbname portico_test=").
std::string postgres_conninfo(const std::string& url);

// True for the URL schemes above.
bool is_postgres_url(const std::string& url);

}  // namespace portico::store

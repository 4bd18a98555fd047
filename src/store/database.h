#pragma once
// The database: a pool of SOCI sessions on SQLite (embedded, the default) or PostgreSQL,
// and the versioned schema migrations of each backend.
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace soci {
class session;
}

namespace portico::store {

enum class Backend { sqlite, postgresql };

// A write that breaks a uniqueness rule (a name or id already taken).
class ConflictError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The database cannot be reached or failed; the request should get 503, not 4xx.
class UnavailableError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Database {
 public:
  // `url`: "postgresql://user:pass@host:port/db" (or "postgres://"), otherwise a SQLite file
  // path whose directory is created if missing (SQLite runs in WAL mode with a busy timeout).
  // Throws UnavailableError when the database cannot be opened.
  static std::unique_ptr<Database> open(const std::string& url, int pool_size);
  ~Database();

  Backend backend() const;
  // Applies the migrations newer than the stored schema version, each in its own
  // transaction; returns the schema version afterwards.
  int migrate();
  int schema_version();

  // Runs `fn` with a pooled session.
  void with_session(const std::function<void(soci::session&)>& fn);
  // Runs `fn` in a transaction: committed when `fn` returns, rolled back when it throws.
  // A unique-constraint violation surfaces as ConflictError, a lost connection as
  // UnavailableError.
  void in_transaction(const std::function<void(soci::session&)>& fn);

 private:
  struct Impl;
  explicit Database(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::store

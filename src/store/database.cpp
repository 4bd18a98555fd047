#include "store/database.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string_view>
#include <vector>

#include "store/migrations.h"
#include "store/postgres_url.h"

namespace portico::store {
namespace {

// How long a caller waits for a pooled session before the database counts as unavailable.
constexpr int kLeaseTimeoutMs = 30'000;
// Serializes migrations across processes sharing one PostgreSQL database.
constexpr std::string_view kMigrationLock = "SELECT pg_advisory_xact_lock(7350285617346473315)";
constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";

enum class Failure { conflict, unavailable, other };

Failure classify_postgres(const soci::soci_error& error, soci::session& sql) {
  if (const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&error)) {
    std::string state = pg->sqlstate();
    if (state == "23505") return Failure::conflict;
    // Class 08: connection exceptions; 57P01-57P03: the server is shutting down or starting;
    // 53300: too many connections.
    if (state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03" ||
        state == "53300" || pg->get_error_category() == soci::soci_error::connection_error) {
      return Failure::unavailable;
    }
  }
  // A dropped connection often surfaces without a SQLSTATE (libpq reports it locally).
  bool connected = false;
  try {
    connected = sql.is_connected();
  } catch (...) {
  }
  return connected ? Failure::other : Failure::unavailable;
}

Failure classify_sqlite(const soci::soci_error& error) {
  const auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&error);
  if (lite == nullptr) return Failure::other;
  // Extended result codes are on (see setup_sqlite), so the unique violation is told apart
  // from NOT NULL, CHECK and foreign-key ones, as PostgreSQL's 23505 is.
  int code = lite->result();
  if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return Failure::conflict;
  }
  switch (code & 0xff) {
    case SQLITE_BUSY:  // still locked after busy_timeout: overloaded, worth a retry later
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Failure::unavailable;
    default:
      return Failure::other;
  }
}

void setup_sqlite(soci::session& sql) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(sql.get_backend());
  sqlite_api::sqlite3_extended_result_codes(backend->conn_, 1);
  // The timeout comes first so that switching to WAL waits for a concurrent opener.
  sql << "PRAGMA busy_timeout=5000";
  std::string mode;
  sql << "PRAGMA journal_mode=WAL", soci::into(mode);
  sql << "PRAGMA foreign_keys=ON";
  // With WAL, NORMAL loses at most the last transactions on power loss, never consistency.
  sql << "PRAGMA synchronous=NORMAL";
}

void setup_postgres(soci::session& sql) {
  // libpq prints NOTICEs to stderr ("relation already exists, skipping" on every start).
  sql << "SET client_min_messages TO WARNING";
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct Database::Impl {
  Impl(Backend backend, std::size_t size) : backend(backend), pool(size), broken(size, 0) {}

  void setup(soci::session& sql) {
    if (backend == Backend::sqlite) {
      setup_sqlite(sql);
    } else {
      setup_postgres(sql);
    }
  }

  // A pooled session held for one call; a session whose connection was lost is reconnected
  // by the next lessee rather than handed out broken.
  class Lease {
   public:
    explicit Lease(Impl& impl) : impl_(impl) {
      if (!impl_.pool.try_lease(pos_, kLeaseTimeoutMs)) {
        throw UnavailableError("no database session became free within 30 s");
      }
      if (impl_.broken[pos_]) {
        try {
          session().reconnect();
          impl_.setup(session());
          impl_.broken[pos_] = 0;
        } catch (const std::exception& e) {
          impl_.pool.give_back(pos_);
          throw UnavailableError(std::string("cannot reconnect to the database: ") + e.what());
        }
      }
    }
    ~Lease() { impl_.pool.give_back(pos_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    soci::session& session() { return impl_.pool.at(pos_); }
    void mark_broken() { impl_.broken[pos_] = 1; }

   private:
    Impl& impl_;
    std::size_t pos_ = 0;
  };

  // Runs `body` on a leased session and maps the driver's errors onto the store's.
  template <class Body>
  void run(Body&& body) {
    Lease lease(*this);
    soci::session& sql = lease.session();
    try {
      body(sql);
    } catch (const soci::soci_error& e) {
      Failure failure = backend == Backend::sqlite ? classify_sqlite(e) : classify_postgres(e, sql);
      switch (failure) {
        // get_error_message(), not what(): SOCI's context lists the statement's bound
        // values, which may be password or token hashes, and these messages get logged.
        case Failure::conflict:
          throw ConflictError(e.get_error_message());
        case Failure::unavailable:
          if (backend == Backend::postgresql) lease.mark_broken();
          throw UnavailableError(e.get_error_message());
        case Failure::other:
          throw;
      }
    }
  }

  Backend backend;
  soci::connection_pool pool;
  // Per pool slot; only the slot's current lessee touches its flag (char, not vector<bool>,
  // so that neighbouring slots are distinct memory locations).
  std::vector<char> broken;
};

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

std::unique_ptr<Database> Database::open(const std::string& url, int pool_size) {
  std::size_t size = static_cast<std::size_t>(std::max(1, pool_size));
  Backend backend = is_postgres_url(url) ? Backend::postgresql : Backend::sqlite;
  std::string connect_string;
  if (backend == Backend::postgresql) {
    try {
      connect_string = postgres_conninfo(url);
    } catch (const std::invalid_argument& e) {
      throw UnavailableError(e.what());
    }
  } else {
    if (url.empty()) throw UnavailableError("empty SQLite database path");
    // SOCI's SQLite backend reads a string holding '=' as key=value options.
    if (url.find('=') != std::string::npos) {
      throw UnavailableError("SQLite database path must not contain '=': " + url);
    }
    // One in-memory database per connection would make every session see a different one.
    if (url == ":memory:") size = 1;
    std::filesystem::path parent = std::filesystem::path(url).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      throw UnavailableError("cannot create the directory " + parent.string() + ": " +
                             ec.message());
    }
    connect_string = url;
  }

  auto impl = std::make_unique<Impl>(backend, size);
  for (std::size_t i = 0; i < size; ++i) {
    soci::session& sql = impl->pool.at(i);
    try {
      if (backend == Backend::sqlite) {
        sql.open(soci::sqlite3, connect_string);
      } else {
        sql.open(soci::postgresql, connect_string);
      }
      impl->setup(sql);
    } catch (const std::exception& e) {
      throw UnavailableError(std::string("cannot open the database: ") + e.what());
    }
  }
  return std::unique_ptr<Database>(new Database(std::move(impl)));
}

Backend Database::backend() const {
  return impl_->backend;
}

void Database::with_session(const std::function<void(soci::session&)>& fn) {
  impl_->run([&](soci::session& sql) { fn(sql); });
}

void Database::in_transaction(const std::function<void(soci::session&)>& fn) {
  impl_->run([&](soci::session& sql) {
    // IMMEDIATE takes SQLite's write lock up front: a deferred transaction that reads and
    // then writes can fail with SQLITE_BUSY at once (no busy wait) when another connection
    // wrote in between.
    sql << (impl_->backend == Backend::sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
    try {
      fn(sql);
      sql << "COMMIT";
    } catch (...) {
      try {
        sql << "ROLLBACK";
      } catch (...) {
        // The connection is gone or the transaction already ended; the first error matters.
      }
      throw;
    }
  });
}

namespace {

int read_schema_version(soci::session& sql) {
  int version = 0;
  sql << "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", soci::into(version);
  return version;
}

}  // namespace

int Database::migrate() {
  const std::vector<EmbeddedMigration> migrations = migrations_for(impl_->backend);
  // One migration per transaction, each re-reading the version under the lock, so that two
  // processes starting together apply every migration exactly once.
  for (;;) {
    bool applied = false;
    in_transaction([&](soci::session& sql) {
      if (impl_->backend == Backend::postgresql) sql << kMigrationLock;
      sql << kCreateMigrationsTable;
      int current = read_schema_version(sql);
      for (const EmbeddedMigration& m : migrations) {
        if (m.version <= current) continue;
        for (const std::string& statement : split_sql_statements(m.sql)) {
          sql << statement;
        }
        std::string name = m.name;
        std::int64_t applied_at = unix_now();
        sql << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)",
            soci::use(m.version), soci::use(name), soci::use(applied_at);
        applied = true;
        return;
      }
    });
    if (!applied) break;
  }
  return schema_version();
}

int Database::schema_version() {
  int version = 0;
  with_session([&](soci::session& sql) {
    int exists = 0;
    if (impl_->backend == Backend::sqlite) {
      sql << "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = "
             "'schema_migrations'",
          soci::into(exists);
    } else {
      sql << "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE 1 END",
          soci::into(exists);
    }
    if (exists != 0) version = read_schema_version(sql);
  });
  return version;
}

}  // namespace portico::store

#include "store/database.h"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/migrations.h"
#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

using testing::StoreTest;

int latest_version(Backend backend) {
  return migrations_for(backend).back().version;
}

long long count_rows(Database& db, const std::string& table) {
  long long n = -1;
  db.with_session(
      [&](soci::session& sql) { sql << "SELECT COUNT(*) FROM " + table, soci::into(n); });
  return n;
}

class DatabaseTest : public StoreTest {};
PORTICO_STORE_BACKENDS(DatabaseTest);

TEST_P(DatabaseTest, MigrateCreatesTheSchema) {
  EXPECT_EQ(db_->backend(), GetParam());
  EXPECT_EQ(db_->schema_version(), latest_version(GetParam()));
  for (const char* table :
       {"users", "user_roles", "oauth_clients", "signing_keys", "refresh_tokens",
        "authorization_codes", "opaque_tokens", "revoked_tokens"}) {
    EXPECT_EQ(count_rows(*db_, table), 0) << table;
  }
  EXPECT_EQ(count_rows(*db_, "schema_migrations"),
            static_cast<long long>(migrations_for(GetParam()).size()));
}

TEST_P(DatabaseTest, UnmigratedDatabaseHasVersionZero) {
  auto fresh = Database::open(new_location(), 1);
  EXPECT_EQ(fresh->schema_version(), 0);
}

TEST_P(DatabaseTest, MigrateTwiceAppliesNothing) {
  long long applied = count_rows(*db_, "schema_migrations");
  EXPECT_EQ(db_->migrate(), latest_version(GetParam()));
  auto again = open_again();
  EXPECT_EQ(again->migrate(), latest_version(GetParam()));
  EXPECT_EQ(count_rows(*db_, "schema_migrations"), applied);
}

TEST_P(DatabaseTest, ConcurrentMigrationsApplyEachMigrationOnce) {
  std::string url = new_location();
  constexpr int kProcesses = 4;
  std::vector<std::unique_ptr<Database>> dbs;
  for (int i = 0; i < kProcesses; ++i) dbs.push_back(Database::open(url, 1));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (auto& db : dbs) {
    threads.emplace_back([&db, &failures] {
      try {
        db->migrate();
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(dbs[0]->schema_version(), latest_version(GetParam()));
  EXPECT_EQ(count_rows(*dbs[0], "schema_migrations"),
            static_cast<long long>(migrations_for(GetParam()).size()));
}

TEST_P(DatabaseTest, InTransactionCommitsWhenTheFunctionReturns) {
  db_->in_transaction([](soci::session& sql) {
    sql << "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ('a', 1, 1)";
    sql << "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ('b', 1, 1)";
  });
  EXPECT_EQ(count_rows(*db_, "revoked_tokens"), 2);
}

TEST_P(DatabaseTest, InTransactionRollsBackWhenTheFunctionThrows) {
  EXPECT_THROW(db_->in_transaction([](soci::session& sql) {
    sql << "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ('a', 1, 1)";
    throw std::runtime_error("changed my mind");
  }),
               std::runtime_error);
  EXPECT_EQ(count_rows(*db_, "revoked_tokens"), 0);
}

TEST_P(DatabaseTest, UniqueViolationIsConflictErrorAndRollsBack) {
  EXPECT_THROW(db_->in_transaction([](soci::session& sql) {
    sql << "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ('b', 1, 1)";
    sql << "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ('a', 1, 1)";
    sql << "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ('a', 2, 2)";
  }),
               ConflictError);
  EXPECT_EQ(count_rows(*db_, "revoked_tokens"), 0);
  // The session went back to the pool usable.
  db_->with_session([](soci::session& sql) {
    sql << "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ('a', 1, 1)";
  });
  EXPECT_THROW(db_->with_session([](soci::session& sql) {
    sql << "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ('a', 1, 1)";
  }),
               ConflictError);
}

TEST_P(DatabaseTest, OtherErrorsKeepTheirType) {
  try {
    db_->with_session([](soci::session& sql) { sql << "SELECT * FROM no_such_table"; });
    FAIL() << "no error";
  } catch (const ConflictError&) {
    FAIL() << "mapped to ConflictError";
  } catch (const UnavailableError&) {
    FAIL() << "mapped to UnavailableError";
  } catch (const soci::soci_error&) {
  }
  // A NOT NULL violation is a bug in the caller, not a taken name.
  EXPECT_THROW(db_->with_session([](soci::session& sql) {
    sql << "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ('a', NULL, 1)";
  }),
               soci::soci_error);
}

TEST_P(DatabaseTest, WriteTransactionsOfPooledSessionsDoNotDeadlock) {
  // Each transaction reads and then writes: on SQLite, deferred transactions doing this
  // concurrently fail with SQLITE_BUSY without waiting; BEGIN IMMEDIATE queues them.
  constexpr int kThreads = 8;
  constexpr int kRounds = 10;
  auto db = open_again(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        try {
          db->in_transaction([&](soci::session& sql) {
            long long n = 0;
            sql << "SELECT COUNT(*) FROM revoked_tokens", soci::into(n);
            // Widens the window in which another transaction writes between our read and
            // our write.
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            std::string jti = std::to_string(t) + "-" + std::to_string(i);
            sql << "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES (:j, :n, 0)",
                soci::use(jti), soci::use(n);
          });
        } catch (const std::exception& e) {
          ADD_FAILURE() << e.what();
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(count_rows(*db_, "revoked_tokens"), kThreads * kRounds);
}

TEST_P(DatabaseTest, SqliteConnectionsUseWalAndForeignKeys) {
  if (GetParam() != Backend::sqlite) GTEST_SKIP() << "SQLite settings";
  std::set<std::string> modes;
  std::set<int> foreign_keys;
  // Hold every pooled session at once so that each is checked.
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::atomic<int> inside{0};
  for (int i = 0; i < kPoolSize; ++i) {
    threads.emplace_back([&] {
      db_->with_session([&](soci::session& sql) {
        std::string mode;
        int fk = 0, timeout = 0, synchronous = 0;
        sql << "PRAGMA journal_mode", soci::into(mode);
        sql << "PRAGMA foreign_keys", soci::into(fk);
        sql << "PRAGMA busy_timeout", soci::into(timeout);
        sql << "PRAGMA synchronous", soci::into(synchronous);
        {
          std::lock_guard lock(mutex);
          modes.insert(mode);
          foreign_keys.insert(fk);
          EXPECT_EQ(timeout, 5000);
          EXPECT_EQ(synchronous, 1);  // NORMAL
        }
        ++inside;
        while (inside.load() < kPoolSize) std::this_thread::yield();
      });
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(modes, std::set<std::string>{"wal"});
  EXPECT_EQ(foreign_keys, std::set<int>{1});
}

TEST_P(DatabaseTest, LostConnectionIsUnavailableThenTheSessionReconnects) {
  if (GetParam() != Backend::postgresql) GTEST_SKIP() << "only a server connection can be lost";
  auto db = Database::open(url_, 1);
  int pid = 0;
  db->with_session([&](soci::session& sql) { sql << "SELECT pg_backend_pid()", soci::into(pid); });
  admin_->with_session([&](soci::session& sql) {
    int done = 0;
    sql << "SELECT CASE WHEN pg_terminate_backend(:pid) THEN 1 ELSE 0 END", soci::use(pid),
        soci::into(done);
    ASSERT_EQ(done, 1);
  });
  EXPECT_THROW(db->with_session([](soci::session& sql) {
    int one = 0;
    sql << "SELECT 1", soci::into(one);
  }),
               UnavailableError);
  int one = 0;
  db->with_session([&](soci::session& sql) { sql << "SELECT 1", soci::into(one); });
  EXPECT_EQ(one, 1);
}

TEST(DatabaseOpenTest, UnreachablePostgresIsUnavailable) {
  EXPECT_THROW(Database::open("postgresql://portico:secret@127.0.0.1:1/portico_test", 2),
               UnavailableError);
  EXPECT_THROW(Database::open("postgres://portico@127.0.0.1:1/portico_test", 1), UnavailableError);
}

TEST(DatabaseOpenTest, MalformedPostgresUrlIsUnavailable) {
  EXPECT_THROW(Database::open("postgresql://u@host:port/db", 1), UnavailableError);
}

TEST(MigrationsTest, BothBackendsHaveTheSameMigrations) {
  auto sqlite = migrations_for(Backend::sqlite);
  auto postgres = migrations_for(Backend::postgresql);
  ASSERT_FALSE(sqlite.empty());
  ASSERT_EQ(sqlite.size(), postgres.size());
  for (std::size_t i = 0; i < sqlite.size(); ++i) {
    EXPECT_EQ(sqlite[i].version, postgres[i].version);
    EXPECT_STREQ(sqlite[i].name, postgres[i].name);
    EXPECT_EQ(split_sql_statements(sqlite[i].sql).size(),
              split_sql_statements(postgres[i].sql).size())
        << sqlite[i].name;
  }
  EXPECT_EQ(sqlite[0].version, 1);
  EXPECT_STREQ(sqlite[0].name, "0001_users_and_keymanager");
}

TEST(MigrationsTest, SplitsStatementsAtLineEndSemicolons) {
  auto statements = split_sql_statements(
      "-- a comment: with a colon\n"
      "CREATE TABLE a (\n  x TEXT NOT NULL DEFAULT 'a;b'\n);\n"
      "\n"
      "CREATE INDEX a_x ON a(x);  \n"
      "  -- trailing comment\n");
  ASSERT_EQ(statements.size(), 2u);
  EXPECT_EQ(statements[0], "CREATE TABLE a (\n  x TEXT NOT NULL DEFAULT 'a;b'\n)");
  EXPECT_EQ(statements[1], "CREATE INDEX a_x ON a(x)");
  EXPECT_EQ(split_sql_statements("SELECT 1").size(), 1u);
  EXPECT_TRUE(split_sql_statements("-- nothing\n\n").empty());
}

}  // namespace
}  // namespace portico::store

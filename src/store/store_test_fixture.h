#pragma once
// The fixture every store test runs under, once per backend: SQLite in a fresh temporary
// file, and PostgreSQL (from PORTICO_TEST_POSTGRES_URL) in a fresh schema per test.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

// Names the backend in GoogleTest's and CTest's output instead of dumping its bytes.
inline void PrintTo(Backend backend, std::ostream* os) {
  *os << (backend == Backend::sqlite ? "sqlite" : "postgresql");
}

}  // namespace portico::store

namespace portico::store::testing {

inline std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i) out += kHex[rng() % 16];
  return out;
}

inline const char* postgres_base_url() {
  return std::getenv("PORTICO_TEST_POSTGRES_URL");
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::postgresql) {
      const char* base = postgres_base_url();
      if (base == nullptr || *base == '\0') {
        GTEST_SKIP() << "PORTICO_TEST_POSTGRES_URL is not set: run the tests under "
                        "scripts/with-postgres (e.g. scripts/with-postgres "
                        "build/src/store/store_tests)";
      }
      base_url_ = base;
      admin_ = Database::open(base_url_, 1);
    }
    url_ = new_location();
    db_ = Database::open(url_, kPoolSize);
    ASSERT_GT(db_->migrate(), 0);
  }

  void TearDown() override {
    db_.reset();
    if (admin_) {
      for (const std::string& schema : schemas_) {
        admin_->with_session(
            [&](soci::session& sql) { sql << "DROP SCHEMA IF EXISTS " + schema + " CASCADE"; });
      }
      admin_.reset();
    }
    for (const auto& dir : dirs_) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }

  // The URL of a new, empty database: a file in a directory that does not exist yet (open
  // must create it), or a new PostgreSQL schema first on the search path.
  std::string new_location() {
    if (GetParam() == Backend::sqlite) {
      auto dir = std::filesystem::temp_directory_path() / ("portico-store-" + random_suffix());
      dirs_.push_back(dir);
      return (dir / "data" / "portico.db").string();
    }
    std::string schema = "t_" + random_suffix();
    admin_->with_session([&](soci::session& sql) { sql << "CREATE SCHEMA " + schema; });
    schemas_.push_back(schema);
    return base_url_ + (base_url_.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + schema;
  }

  // Another Database on db_'s data, as a second process would open it.
  std::unique_ptr<Database> open_again(int pool_size = kPoolSize) {
    return Database::open(url_, pool_size);
  }

  static constexpr int kPoolSize = 4;

  std::unique_ptr<Database> db_;     // migrated
  std::string url_;                  // db_'s location, to open it again as another process would
  std::unique_ptr<Database> admin_;  // PostgreSQL: creates and drops the tests' schemas
  std::string base_url_;
  std::vector<std::string> schemas_;
  std::vector<std::filesystem::path> dirs_;
};

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "SQLite" : "PostgreSQL";
}

}  // namespace portico::store::testing

// Runs every TEST_P of `fixture` on both backends.
#define PORTICO_STORE_BACKENDS(fixture)                                                            \
  INSTANTIATE_TEST_SUITE_P(                                                                        \
      Backends, fixture,                                                                           \
      ::testing::Values(::portico::store::Backend::sqlite, ::portico::store::Backend::postgresql), \
      ::portico::store::testing::backend_name)

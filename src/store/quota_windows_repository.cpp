#include "store/quota_windows_repository.h"

#include <soci/soci.h>

#include "store/one_time_statement.h"

namespace portico::store {
namespace {

// Both backends know ON CONFLICT ... DO UPDATE (SQLite 3.24+); they differ in the name of the
// two-argument maximum. A limit of 0 means the writer does not know it: keep the stored one.
std::string upsert_sql(Backend backend) {
  const char* greatest = backend == Backend::postgresql ? "GREATEST" : "MAX";
  return std::string(
             "INSERT INTO quota_windows (counter_key, window_ms, window_index, used, "
             "limit_amount, window_end_ms) VALUES (:key, :window_ms, :window_index, :used, "
             ":limit_amount, :window_end_ms) "
             "ON CONFLICT (counter_key, window_ms, window_index) DO UPDATE SET used = ") +
         greatest +
         "(quota_windows.used, excluded.used), limit_amount = CASE WHEN excluded.limit_amount "
         "> 0 THEN excluded.limit_amount ELSE quota_windows.limit_amount END";
}

}  // namespace

void QuotaWindowsRepository::save_greatest(const std::vector<QuotaWindow>& windows) {
  if (windows.empty()) return;
  const std::string sql_text = upsert_sql(db_.backend());
  db_.in_transaction([&](soci::session& sql) {
    QuotaWindow row;
    std::int64_t window_end_ms = 0;
    soci::statement upsert =
        one_time_statement(sql, sql_text, soci::use(row.counter_key), soci::use(row.window_ms),
                           soci::use(row.window_index), soci::use(row.used),
                           soci::use(row.limit_amount), soci::use(window_end_ms));
    for (const QuotaWindow& window : windows) {
      row = window;
      window_end_ms = (window.window_index + 1) * window.window_ms;
      upsert.execute(true);
    }
  });
}

std::optional<std::int64_t> QuotaWindowsRepository::used(const std::string& counter_key,
                                                         std::int64_t window_ms,
                                                         std::int64_t window_index) {
  std::optional<std::int64_t> out;
  db_.with_session([&](soci::session& sql) {
    std::int64_t used = 0;
    sql << "SELECT used FROM quota_windows WHERE counter_key = :key AND window_ms = :window_ms "
           "AND window_index = :window_index",
        soci::use(counter_key), soci::use(window_ms), soci::use(window_index), soci::into(used);
    if (sql.got_data()) out = used;
  });
  return out;
}

std::vector<QuotaWindow> QuotaWindowsRepository::open_windows(std::int64_t now_ms) {
  std::vector<QuotaWindow> out;
  db_.with_session([&](soci::session& sql) {
    QuotaWindow row;
    soci::statement select = one_time_statement(
        sql,
        "SELECT counter_key, window_ms, window_index, used, limit_amount "
        "FROM quota_windows WHERE window_end_ms > :now "
        "ORDER BY counter_key, window_ms, window_index",
        soci::use(now_ms), soci::into(row.counter_key), soci::into(row.window_ms),
        soci::into(row.window_index), soci::into(row.used), soci::into(row.limit_amount));
    select.execute();
    while (select.fetch()) out.push_back(row);
  });
  return out;
}

std::size_t QuotaWindowsRepository::purge_ended(std::int64_t now_ms) {
  long long removed = 0;
  db_.with_session([&](soci::session& sql) {
    soci::statement purge = one_time_statement(
        sql, "DELETE FROM quota_windows WHERE window_end_ms <= :now", soci::use(now_ms));
    purge.execute(true);
    removed = purge.get_affected_rows();
  });
  return static_cast<std::size_t>(removed);
}

}  // namespace portico::store

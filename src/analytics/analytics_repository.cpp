#include "analytics/analytics_repository.h"

#include <soci/soci.h>

#include <cstdio>
#include <stdexcept>

#include "store/database.h"
#include "store/one_time_statement.h"

namespace portico::analytics {
namespace {

// Spill-file batches are replayed within minutes of the database's return; a day is ample.
constexpr std::int64_t kBatchMemorySeconds = 24 * 60 * 60;
// A gateway re-sends a batch whose answer it lost at its next attempt, within a minute or so;
// a week also covers a gateway that stopped meanwhile and is started again days later.
constexpr std::int64_t kReceivedBatchMemorySeconds = 7 * 24 * 60 * 60;

constexpr const char* kKeyColumns[] = {"minute",         "api_id",           "api_name",
                                       "api_version",    "api_method",       "resource_template",
                                       "application_id", "application_name", "application_owner",
                                       "status_class",   "node_id"};
constexpr std::size_t kKeyCount = std::size(kKeyColumns);

constexpr const char* kCounterColumns[] = {"requests",       "errors",        "throttled",
                                           "latency_sum_ms", "request_bytes", "response_bytes"};

std::string histogram_column(std::size_t i) {
  char name[8];
  std::snprintf(name, sizeof name, "h%02zu", i);
  return name;
}

std::vector<std::string> counter_columns() {
  std::vector<std::string> out(std::begin(kCounterColumns), std::end(kCounterColumns));
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) out.push_back(histogram_column(i));
  return out;
}

std::string upsert_sql() {
  std::string columns, values, conflict, updates;
  for (std::size_t i = 0; i < kKeyCount; ++i) {
    if (i > 0) conflict += ", ";
    conflict += kKeyColumns[i];
  }
  columns = conflict;
  for (std::size_t i = 0; i < kKeyCount; ++i) values += (i > 0 ? ", :k" : ":k") + std::to_string(i);
  std::size_t n = 0;
  for (const std::string& c : counter_columns()) {
    columns += ", " + c;
    values += ", :c" + std::to_string(n++);
    if (!updates.empty()) updates += ", ";
    updates += c + " = analytics_rollups." + c + " + excluded." + c;
  }
  return "INSERT INTO analytics_rollups (" + columns + ") VALUES (" + values + ") ON CONFLICT (" +
         conflict + ") DO UPDATE SET " + updates;
}

// Which key columns a grouping selects; the others are answered as constants.
std::vector<bool> grouped_columns(GroupBy group_by) {
  std::vector<bool> grouped(kKeyCount, false);
  auto set = [&](std::initializer_list<std::size_t> columns) {
    for (std::size_t c : columns) grouped[c] = true;
  };
  switch (group_by) {
    case GroupBy::api:
      set({1, 2, 3});
      break;
    case GroupBy::application:
      set({6, 7, 8});
      break;
    case GroupBy::resource:
      set({1, 2, 3, 4, 5});
      break;
    case GroupBy::status:
      set({9});
      break;
    case GroupBy::minute:
      set({0});
      break;
    case GroupBy::node:
      set({10});
      break;
  }
  return grouped;
}

// SOCI's what() lists the statement and its bound values: too long for a log line, and the
// writer logs what it catches. Its error message alone says what went wrong.
template <class Body>
void plain_errors(Body&& body) {
  try {
    body();
  } catch (const soci::soci_error& e) {
    throw std::runtime_error(e.get_error_message());
  }
}

}  // namespace

namespace {

// Adds `rollups` to the stored rows, binding each value once and executing per row.
void upsert_rollups(soci::session& sql, const RollupMap& rollups) {
  static const std::string kUpsert = upsert_sql();
  long long minute = 0;
  std::string keys[kKeyCount - 1];
  long long counters[std::size(kCounterColumns) + kLatencyBuckets] = {};
  soci::statement st(sql);
  st.exchange(soci::use(minute));
  for (std::string& k : keys) st.exchange(soci::use(k));
  for (long long& c : counters) st.exchange(soci::use(c));
  st.alloc();
  st.prepare(kUpsert);
  st.define_and_bind();
  for (const auto& [key, c] : rollups) {
    minute = key.minute;
    keys[0] = key.api_id;
    keys[1] = key.api_name;
    keys[2] = key.api_version;
    keys[3] = key.api_method;
    keys[4] = key.resource_template;
    keys[5] = key.application_id;
    keys[6] = key.application_name;
    keys[7] = key.application_owner;
    keys[8] = key.status_class;
    keys[9] = key.node_id;
    counters[0] = c.requests;
    counters[1] = c.errors;
    counters[2] = c.throttled;
    counters[3] = c.latency_sum_ms;
    counters[4] = c.request_bytes;
    counters[5] = c.response_bytes;
    for (std::size_t i = 0; i < kLatencyBuckets; ++i) counters[6 + i] = c.histogram[i];
    st.execute(true);
  }
}

// Records a batch id first, then adds the rollups, in one transaction. The id's row comes
// first so that two nodes given the same batch at once serialise on it: the second waits for
// the first's commit, finds the id taken and adds nothing.
template <class RecordId, class Prune>
bool add_once(store::Database& db, const RollupMap& rollups, RecordId record_id, Prune prune) {
  bool added = false;
  plain_errors([&] {
    db.in_transaction([&](soci::session& sql) {
      if (!record_id(sql)) return;
      upsert_rollups(sql, rollups);
      prune(sql);
      added = true;
    });
  });
  return added;
}

}  // namespace

bool AnalyticsRepository::add_batch(const std::string& batch_id, const RollupMap& rollups,
                                    std::int64_t now_seconds) {
  long long now = now_seconds;
  long long cutoff = now_seconds - kBatchMemorySeconds;
  return add_once(
      db_, rollups,
      [&](soci::session& sql) {
        soci::statement st = store::one_time_statement(
            sql,
            "INSERT INTO analytics_batches (batch_id, applied_at) VALUES (:id, "
            ":now) ON CONFLICT (batch_id) DO NOTHING",
            soci::use(batch_id), soci::use(now));
        st.execute(true);
        return st.get_affected_rows() > 0;
      },
      [&](soci::session& sql) {
        sql << "DELETE FROM analytics_batches WHERE applied_at < :cutoff", soci::use(cutoff);
      });
}

bool AnalyticsRepository::add_received_batch(const std::string& node_id,
                                             const std::string& batch_id, const RollupMap& rollups,
                                             std::int64_t now_seconds) {
  long long now = now_seconds;
  long long cutoff = now_seconds - kReceivedBatchMemorySeconds;
  return add_once(
      db_, rollups,
      [&](soci::session& sql) {
        soci::statement st = store::one_time_statement(
            sql,
            "INSERT INTO analytics_received_batches (node_id, batch_id, "
            "received_at) VALUES (:node, :id, :now) ON CONFLICT (node_id, "
            "batch_id) DO NOTHING",
            soci::use(node_id), soci::use(batch_id), soci::use(now));
        st.execute(true);
        return st.get_affected_rows() > 0;
      },
      [&](soci::session& sql) {
        sql << "DELETE FROM analytics_received_batches WHERE received_at < :cutoff",
            soci::use(cutoff);
      });
}

std::vector<RollupGroup> AnalyticsRepository::query(const RollupQuery& q) {
  const std::vector<bool> grouped = grouped_columns(q.group_by);
  std::string select, group_by;
  for (std::size_t i = 0; i < kKeyCount; ++i) {
    if (i > 0) select += ", ";
    if (grouped[i]) {
      select += kKeyColumns[i];
      group_by += (group_by.empty() ? "" : ", ") + std::string(kKeyColumns[i]);
    } else {
      select += i == 0 ? "CAST(0 AS BIGINT)" : "''";
    }
  }
  // PostgreSQL's SUM of BIGINT is NUMERIC; the cast keeps every column a 64-bit integer.
  for (const std::string& c : counter_columns()) select += ", CAST(SUM(" + c + ") AS BIGINT)";
  std::string where = " WHERE minute >= :from_minute AND minute < :to_minute";
  if (q.api_id) where += " AND api_id = :api_id";
  if (q.application_id) where += " AND application_id = :application_id";
  if (q.application_owner) where += " AND application_owner = :owner";
  if (q.node_id) where += " AND node_id = :node_id";
  const std::string text =
      "SELECT " + select + " FROM analytics_rollups" + where + " GROUP BY " + group_by;

  std::vector<RollupGroup> out;
  plain_errors([&] {
    db_.with_session([&](soci::session& sql) {
      long long from = q.from_minute, to = q.to_minute;
      long long minute = 0;
      std::string keys[kKeyCount - 1];
      long long counters[std::size(kCounterColumns) + kLatencyBuckets] = {};
      soci::statement st(sql);
      st.exchange(soci::into(minute));
      for (std::string& k : keys) st.exchange(soci::into(k));
      for (long long& c : counters) st.exchange(soci::into(c));
      st.exchange(soci::use(from, "from_minute"));
      st.exchange(soci::use(to, "to_minute"));
      if (q.api_id) st.exchange(soci::use(*q.api_id, "api_id"));
      if (q.application_id) st.exchange(soci::use(*q.application_id, "application_id"));
      if (q.application_owner) st.exchange(soci::use(*q.application_owner, "owner"));
      if (q.node_id) st.exchange(soci::use(*q.node_id, "node_id"));
      store::prepare_one_time(st, text);
      st.execute();
      while (st.fetch()) {
        RollupGroup g;
        g.key.minute = minute;
        g.key.api_id = keys[0];
        g.key.api_name = keys[1];
        g.key.api_version = keys[2];
        g.key.api_method = keys[3];
        g.key.resource_template = keys[4];
        g.key.application_id = keys[5];
        g.key.application_name = keys[6];
        g.key.application_owner = keys[7];
        g.key.status_class = keys[8];
        g.key.node_id = keys[9];
        g.totals.requests = counters[0];
        g.totals.errors = counters[1];
        g.totals.throttled = counters[2];
        g.totals.latency_sum_ms = counters[3];
        g.totals.request_bytes = counters[4];
        g.totals.response_bytes = counters[5];
        for (std::size_t i = 0; i < kLatencyBuckets; ++i) g.totals.histogram[i] = counters[6 + i];
        out.push_back(std::move(g));
      }
    });
  });
  return out;
}

}  // namespace portico::analytics

#include "store/subscriptions_repository.h"

#include <soci/soci.h>

#include "store/one_time_statement.h"

namespace portico::store {
namespace {

constexpr const char* kSelect =
    "SELECT s.id, s.application_id, s.api_id, s.throttling_policy, s.status, s.created_time, "
    "s.updated_time FROM subscriptions s JOIN applications a ON a.id = s.application_id ";

// The WHERE clause of a list: only the filters given, so that the planner can use the
// subscriptions indexes (a generic plan for "(:x = '' OR col = :y)" scans the table). Every
// piece of text is constant; the values are bound in placeholder order.
struct Where {
  std::string text = "WHERE 1 = 1 ";
  std::vector<const std::string*> values;
};

Where where_of(const SubscriptionFilter& f) {
  Where w;
  if (!f.application_id.empty()) {
    w.text += "AND s.application_id = :app ";
    w.values.push_back(&f.application_id);
  }
  if (!f.api_id.empty()) {
    w.text += "AND s.api_id = :api ";
    w.values.push_back(&f.api_id);
  }
  if (!f.owner.empty()) {
    w.text += "AND a.owner = :owner ";
    w.values.push_back(&f.owner);
  }
  return w;
}

struct Row {
  SubscriptionRecord record;
  long long created = 0;
  long long updated = 0;
};

void insert(soci::session& sql, const SubscriptionRecord& s) {
  long long created = s.created_time, updated = s.updated_time;
  sql << "INSERT INTO subscriptions (id, application_id, api_id, throttling_policy, status, "
         "created_time, updated_time) VALUES (:id, :app, :api, :policy, :status, :created, "
         ":updated)",
      soci::use(s.id), soci::use(s.application_id), soci::use(s.api_id),
      soci::use(s.throttling_policy), soci::use(s.status), soci::use(created), soci::use(updated);
}

}  // namespace

void SubscriptionsRepository::create(const SubscriptionRecord& s) {
  db_.in_transaction([&](soci::session& sql) { insert(sql, s); });
}

void SubscriptionsRepository::create_all(const std::vector<SubscriptionRecord>& subscriptions) {
  db_.in_transaction([&](soci::session& sql) {
    for (const auto& s : subscriptions) insert(sql, s);
  });
}

std::optional<SubscriptionRecord> SubscriptionsRepository::find(const std::string& id) {
  std::optional<SubscriptionRecord> found;
  db_.with_session([&](soci::session& sql) {
    Row row;
    soci::statement st = one_time_statement(
        sql, std::string(kSelect) + "WHERE s.id = :id", soci::into(row.record.id),
        soci::into(row.record.application_id), soci::into(row.record.api_id),
        soci::into(row.record.throttling_policy), soci::into(row.record.status),
        soci::into(row.created), soci::into(row.updated), soci::use(id));
    if (st.execute(true)) {
      row.record.created_time = row.created;
      row.record.updated_time = row.updated;
      found = row.record;
    }
  });
  return found;
}

std::vector<SubscriptionRecord> SubscriptionsRepository::list(const SubscriptionFilter& f,
                                                              std::int64_t limit,
                                                              std::int64_t offset) {
  std::vector<SubscriptionRecord> out;
  long long lim = limit, off = offset;
  Where w = where_of(f);
  db_.with_session([&](soci::session& sql) {
    Row row;
    soci::statement st(sql);
    for (auto* into : {&row.record.id, &row.record.application_id, &row.record.api_id,
                       &row.record.throttling_policy, &row.record.status})
      st.exchange(soci::into(*into));
    st.exchange(soci::into(row.created));
    st.exchange(soci::into(row.updated));
    for (const auto* value : w.values) st.exchange(soci::use(*value));
    st.exchange(soci::use(lim));
    st.exchange(soci::use(off));
    prepare_one_time(st, std::string(kSelect) + w.text +
                             "ORDER BY s.created_time, s.id LIMIT :limit OFFSET :offset");
    st.execute();
    while (st.fetch()) {
      row.record.created_time = row.created;
      row.record.updated_time = row.updated;
      out.push_back(row.record);
    }
  });
  return out;
}

std::int64_t SubscriptionsRepository::count(const SubscriptionFilter& f) {
  long long n = 0;
  Where w = where_of(f);
  db_.with_session([&](soci::session& sql) {
    soci::statement st(sql);
    st.exchange(soci::into(n));
    for (const auto* value : w.values) st.exchange(soci::use(*value));
    prepare_one_time(st,
                     "SELECT COUNT(*) FROM subscriptions s JOIN applications a ON a.id = "
                     "s.application_id " +
                         w.text);
    st.execute(true);
  });
  return n;
}

bool SubscriptionsRepository::update(const SubscriptionRecord& s) {
  long long updated = s.updated_time;
  long long changed = 0;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st = one_time_statement(
        sql,
        "UPDATE subscriptions SET throttling_policy = :policy, status = :status, "
        "updated_time = :updated WHERE id = :id",
        soci::use(s.throttling_policy), soci::use(s.status), soci::use(updated), soci::use(s.id));
    st.execute(true);
    changed = st.get_affected_rows();
  });
  return changed > 0;
}

bool SubscriptionsRepository::remove(const std::string& id) {
  long long changed = 0;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st =
        one_time_statement(sql, "DELETE FROM subscriptions WHERE id = :id", soci::use(id));
    st.execute(true);
    changed = st.get_affected_rows();
  });
  return changed > 0;
}

}  // namespace portico::store

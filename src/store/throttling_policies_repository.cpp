#include "store/throttling_policies_repository.h"

#include <soci/soci.h>

#include "store/one_time_statement.h"

namespace portico::store {
namespace {

constexpr const char* kSelect =
    "SELECT id, level, name, document, created_time FROM throttling_policies";

std::vector<ThrottlingPolicyRecord> fetch_all(soci::statement& st, ThrottlingPolicyRecord& row) {
  std::vector<ThrottlingPolicyRecord> out;
  st.execute();
  while (st.fetch()) out.push_back(row);
  return out;
}

void insert(soci::session& sql, const ThrottlingPolicyRecord& p) {
  sql << "INSERT INTO throttling_policies (id, level, name, document, created_time) "
         "VALUES (:id, :level, :name, :document, :created)",
      soci::use(p.id), soci::use(p.level), soci::use(p.name), soci::use(p.document),
      soci::use(p.created_time);
}

// How many rows use the policy `name` of `level`. The advanced level is referenced only from
// inside API documents (apiThrottlingPolicy and each operation's throttlingPolicy), so that is
// a text match on the JSON: it may see a use where there is none (a description quoting
// the JSON), never miss one, which is the safe side for a delete.
long long uses(soci::session& sql, const std::string& level, const std::string& name) {
  long long n = 0;
  if (level == "subscription") {
    sql << "SELECT (SELECT COUNT(*) FROM subscriptions WHERE throttling_policy = :a) + "
           "(SELECT COUNT(*) FROM api_subscription_policies WHERE policy = :b)",
        soci::into(n), soci::use(name, "a"), soci::use(name, "b");
  } else if (level == "application") {
    sql << "SELECT COUNT(*) FROM applications WHERE throttling_policy = :a", soci::into(n),
        soci::use(name);
  } else {
    const std::string api_level = "%\"apiThrottlingPolicy\":\"" + name + "\"%";
    const std::string operation_level = "%\"throttlingPolicy\":\"" + name + "\"%";
    const std::string api_level_spaced = "%\"apiThrottlingPolicy\": \"" + name + "\"%";
    const std::string operation_level_spaced = "%\"throttlingPolicy\": \"" + name + "\"%";
    sql << "SELECT COUNT(*) FROM apis WHERE document LIKE :a OR document LIKE :b "
           "OR document LIKE :c OR document LIKE :d",
        soci::into(n), soci::use(api_level, "a"), soci::use(operation_level, "b"),
        soci::use(api_level_spaced, "c"), soci::use(operation_level_spaced, "d");
  }
  return n;
}

}  // namespace

void ThrottlingPoliciesRepository::create(const ThrottlingPolicyRecord& policy) {
  db_.in_transaction([&](soci::session& sql) { insert(sql, policy); });
}

int ThrottlingPoliciesRepository::create_missing(const std::vector<ThrottlingPolicyRecord>& seed) {
  int created = 0;
  db_.in_transaction([&](soci::session& sql) {
    for (const auto& p : seed) {
      int n = 0;
      sql << "SELECT COUNT(*) FROM throttling_policies WHERE level = :l AND name = :n",
          soci::into(n), soci::use(p.level), soci::use(p.name);
      if (n > 0) continue;
      insert(sql, p);
      ++created;
    }
  });
  return created;
}

std::optional<ThrottlingPolicyRecord> ThrottlingPoliciesRepository::find(const std::string& level,
                                                                         const std::string& id) {
  std::optional<ThrottlingPolicyRecord> found;
  db_.with_session([&](soci::session& sql) {
    ThrottlingPolicyRecord r;
    sql << std::string(kSelect) + " WHERE level = :l AND id = :id", soci::into(r.id),
        soci::into(r.level), soci::into(r.name), soci::into(r.document), soci::into(r.created_time),
        soci::use(level), soci::use(id);
    if (sql.got_data()) found = std::move(r);
  });
  return found;
}

std::optional<ThrottlingPolicyRecord> ThrottlingPoliciesRepository::find_by_name(
    const std::string& level, const std::string& name) {
  std::optional<ThrottlingPolicyRecord> found;
  db_.with_session([&](soci::session& sql) {
    ThrottlingPolicyRecord r;
    sql << std::string(kSelect) + " WHERE level = :l AND name = :n", soci::into(r.id),
        soci::into(r.level), soci::into(r.name), soci::into(r.document), soci::into(r.created_time),
        soci::use(level), soci::use(name);
    if (sql.got_data()) found = std::move(r);
  });
  return found;
}

std::vector<ThrottlingPolicyRecord> ThrottlingPoliciesRepository::list(const std::string& level) {
  std::vector<ThrottlingPolicyRecord> out;
  db_.with_session([&](soci::session& sql) {
    ThrottlingPolicyRecord r;
    soci::statement st =
        one_time_statement(sql, std::string(kSelect) + " WHERE level = :l ORDER BY name",
                           soci::into(r.id), soci::into(r.level), soci::into(r.name),
                           soci::into(r.document), soci::into(r.created_time), soci::use(level));
    out = fetch_all(st, r);
  });
  return out;
}

std::vector<ThrottlingPolicyRecord> ThrottlingPoliciesRepository::list_after(
    const std::string& level, const std::string& after, int limit) {
  std::vector<ThrottlingPolicyRecord> out;
  if (limit <= 0) return out;
  db_.with_session([&](soci::session& sql) {
    ThrottlingPolicyRecord r;
    soci::statement st = one_time_statement(
        sql, std::string(kSelect) + " WHERE level = :l AND id > :after ORDER BY id LIMIT :limit",
        soci::into(r.id), soci::into(r.level), soci::into(r.name), soci::into(r.document),
        soci::into(r.created_time), soci::use(level), soci::use(after), soci::use(limit));
    out = fetch_all(st, r);
  });
  return out;
}

bool ThrottlingPoliciesRepository::update(const ThrottlingPolicyRecord& policy) {
  bool updated = false;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st =
        one_time_statement(sql,
                           "UPDATE throttling_policies SET name = :name, document = :document "
                           "WHERE level = :level AND id = :id",
                           soci::use(policy.name), soci::use(policy.document),
                           soci::use(policy.level), soci::use(policy.id));
    st.execute(true);
    updated = st.get_affected_rows() > 0;
  });
  return updated;
}

PolicyRemoval ThrottlingPoliciesRepository::remove_unless_used(const std::string& level,
                                                               const std::string& id) {
  PolicyRemoval outcome = PolicyRemoval::not_found;
  db_.in_transaction([&](soci::session& sql) {
    std::string name;
    sql << "SELECT name FROM throttling_policies WHERE level = :l AND id = :id", soci::into(name),
        soci::use(level), soci::use(id);
    if (!sql.got_data()) {
      outcome = PolicyRemoval::not_found;
      return;
    }
    if (uses(sql, level, name) > 0) {
      outcome = PolicyRemoval::in_use;
      return;
    }
    sql << "DELETE FROM throttling_policies WHERE level = :l AND id = :id", soci::use(level),
        soci::use(id);
    outcome = PolicyRemoval::removed;
  });
  return outcome;
}

}  // namespace portico::store

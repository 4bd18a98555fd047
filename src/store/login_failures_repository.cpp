#include "store/login_failures_repository.h"

#include <soci/soci.h>

#include "store/cluster_lock.h"
#include "store/one_time_statement.h"

namespace portico::store {
namespace {

std::optional<LoginFailureRecord> read(soci::session& sql, const std::string& kind,
                                       const std::string& name) {
  LoginFailureRecord r;
  sql << "SELECT failures, locks, locked_until, last_failure FROM login_failures "
         "WHERE kind = :kind AND name = :name",
      soci::use(kind), soci::use(name), soci::into(r.failures), soci::into(r.locks),
      soci::into(r.locked_until_ms), soci::into(r.last_failure_ms);
  if (!sql.got_data()) return std::nullopt;
  return r;
}

}  // namespace

std::optional<LoginFailureRecord> LoginFailuresRepository::find(const std::string& kind,
                                                                const std::string& name) {
  std::optional<LoginFailureRecord> out;
  db_.with_session([&](soci::session& sql) { out = read(sql, kind, name); });
  return out;
}

std::pair<std::optional<LoginFailureRecord>, std::optional<LoginFailureRecord>>
LoginFailuresRepository::find_both(const std::string& address, const std::string& account) {
  std::pair<std::optional<LoginFailureRecord>, std::optional<LoginFailureRecord>> out;
  db_.with_session([&](soci::session& sql) {
    std::string kind;
    LoginFailureRecord r;
    soci::statement st = one_time_statement(
        sql,
        "SELECT kind, failures, locks, locked_until, last_failure FROM login_failures "
        "WHERE (kind = 'address' AND name = :address) OR (kind = 'account' AND name = :account)",
        soci::into(kind), soci::into(r.failures), soci::into(r.locks),
        soci::into(r.locked_until_ms), soci::into(r.last_failure_ms), soci::use(address),
        soci::use(account));
    st.execute();
    while (st.fetch()) (kind == "address" ? out.first : out.second) = r;
  });
  return out;
}

void LoginFailuresRepository::update(const std::string& kind, const std::string& name,
                                     const std::function<void(LoginFailureRecord&)>& change) {
  db_.in_transaction([&](soci::session& sql) {
    hold_cluster_lock(db_, sql, "login_failures");
    auto stored = read(sql, kind, name);
    LoginFailureRecord r = stored.value_or(LoginFailureRecord{});
    change(r);
    if (stored) {
      sql << "UPDATE login_failures SET failures = :failures, locks = :locks, "
             "locked_until = :until, last_failure = :last WHERE kind = :kind AND name = :name",
          soci::use(r.failures), soci::use(r.locks), soci::use(r.locked_until_ms),
          soci::use(r.last_failure_ms), soci::use(kind), soci::use(name);
    } else {
      sql << "INSERT INTO login_failures (kind, name, failures, locks, locked_until, "
             "last_failure) VALUES (:kind, :name, :failures, :locks, :until, :last)",
          soci::use(kind), soci::use(name), soci::use(r.failures), soci::use(r.locks),
          soci::use(r.locked_until_ms), soci::use(r.last_failure_ms);
    }
  });
}

void LoginFailuresRepository::remove(const std::string& kind, const std::string& name) {
  db_.with_session([&](soci::session& sql) {
    sql << "DELETE FROM login_failures WHERE kind = :kind AND name = :name", soci::use(kind),
        soci::use(name);
  });
}

int LoginFailuresRepository::purge(std::int64_t now_ms, std::int64_t quiet_since_ms) {
  long long removed = 0;
  db_.with_session([&](soci::session& sql) {
    soci::statement st = one_time_statement(sql,
                                            "DELETE FROM login_failures WHERE locked_until <= :now "
                                            "AND last_failure < :quiet",
                                            soci::use(now_ms), soci::use(quiet_since_ms));
    st.execute(true);
    removed = st.get_affected_rows();
  });
  return static_cast<int>(removed);
}

}  // namespace portico::store

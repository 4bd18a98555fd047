#include "store/signing_keys_repository.h"

#include <soci/soci.h>

#include "store/cluster_lock.h"
#include "store/one_time_statement.h"

namespace portico::store {

std::vector<SigningKeyRecord> SigningKeysRepository::list_current(std::int64_t now) {
  std::vector<SigningKeyRecord> keys;
  db_.with_session([&](soci::session& sql) {
    SigningKeyRecord row;
    // The active key first even when a rotation happened within the same second.
    soci::statement st =
        one_time_statement(sql,
                           "SELECT kid, algorithm, private_pem, created_at, retired_at, keep_until "
                           "FROM signing_keys WHERE keep_until = 0 OR keep_until > :now "
                           "ORDER BY CASE WHEN retired_at = 0 THEN 0 ELSE 1 END, created_at DESC, "
                           "retired_at DESC, kid",
                           soci::into(row.kid), soci::into(row.algorithm),
                           soci::into(row.private_pem), soci::into(row.created_at),
                           soci::into(row.retired_at), soci::into(row.keep_until), soci::use(now));
    st.execute();
    while (st.fetch()) keys.push_back(row);
  });
  return keys;
}

void SigningKeysRepository::rotate(const SigningKeyRecord& fresh, std::int64_t now,
                                   std::int64_t retain_seconds) {
  rotate_if(fresh, now, retain_seconds, [](const SigningKeyRecord*) { return true; });
}

bool SigningKeysRepository::rotate_if(
    const SigningKeyRecord& fresh, std::int64_t now, std::int64_t retain_seconds,
    const std::function<bool(const SigningKeyRecord* active)>& needed) {
  std::int64_t keep_until = now + retain_seconds;
  std::int64_t created_at = fresh.created_at != 0 ? fresh.created_at : now;
  bool rotated = false;
  db_.in_transaction([&](soci::session& sql) {
    hold_cluster_lock(db_, sql, "signing_keys.rotate");
    std::optional<SigningKeyRecord> active;
    {
      SigningKeyRecord row;
      soci::statement st = one_time_statement(
          sql,
          "SELECT kid, algorithm, private_pem, created_at, retired_at, keep_until "
          "FROM signing_keys WHERE retired_at = 0 ORDER BY created_at DESC, kid",
          soci::into(row.kid), soci::into(row.algorithm), soci::into(row.private_pem),
          soci::into(row.created_at), soci::into(row.retired_at), soci::into(row.keep_until));
      st.execute();
      if (st.fetch()) active = row;
    }
    if (!needed(active ? &*active : nullptr)) return;
    sql << "UPDATE signing_keys SET retired_at = :now, keep_until = :keep_until "
           "WHERE retired_at = 0",
        soci::use(now), soci::use(keep_until);
    // Whatever `fresh` says about retirement, it becomes the one active key.
    sql << "INSERT INTO signing_keys (kid, algorithm, private_pem, created_at, retired_at, "
           "keep_until) VALUES (:kid, :algorithm, :pem, :created_at, 0, 0)",
        soci::use(fresh.kid), soci::use(fresh.algorithm), soci::use(fresh.private_pem),
        soci::use(created_at);
    rotated = true;
  });
  return rotated;
}

void SigningKeysRepository::replace_private_pem(const std::string& kid,
                                                const std::string& private_pem) {
  db_.with_session([&](soci::session& sql) {
    sql << "UPDATE signing_keys SET private_pem = :pem WHERE kid = :kid", soci::use(private_pem),
        soci::use(kid);
  });
}

int SigningKeysRepository::purge_expired(std::int64_t now) {
  long long removed = 0;
  db_.with_session([&](soci::session& sql) {
    soci::statement st = one_time_statement(
        sql, "DELETE FROM signing_keys WHERE keep_until <> 0 AND keep_until <= :now",
        soci::use(now));
    st.execute(true);
    removed = st.get_affected_rows();
  });
  return static_cast<int>(removed);
}

}  // namespace portico::store

#include "store/tokens_repository.h"

#include <soci/soci.h>

#include "store/cluster_lock.h"
#include "store/one_time_statement.h"

namespace portico::store {
namespace {

long long affected(soci::statement& st) {
  st.execute(true);
  return st.get_affected_rows();
}

bool read_refresh_token(soci::session& sql, const std::string& token_hash,
                        RefreshTokenRecord& token) {
  int used = 0, revoked = 0;
  sql << "SELECT token_hash, family_id, client_id, subject, scope, expires_at, used, revoked "
         "FROM refresh_tokens WHERE token_hash = :h",
      soci::into(token.token_hash), soci::into(token.family_id), soci::into(token.client_id),
      soci::into(token.subject), soci::into(token.scope), soci::into(token.expires_at),
      soci::into(used), soci::into(revoked), soci::use(token_hash);
  token.used = used != 0;
  token.revoked = revoked != 0;
  return sql.got_data();
}

void revoke_family(soci::session& sql, const std::string& family_id) {
  sql << "UPDATE refresh_tokens SET revoked = 1 WHERE family_id = :f", soci::use(family_id);
}

// The unexpired user access tokens `column` = `value` selects are revoked: their jtis join
// the revoked ones and opaque ones are marked revoked. `column` is "subject" or "family_id",
// from the two callers below, never from input.
std::vector<RevokedAccessToken> revoke_user_access_tokens(soci::session& sql,
                                                          const std::string& column,
                                                          const std::string& value,
                                                          std::int64_t now) {
  std::vector<RevokedAccessToken> revoked;
  RevokedAccessToken row;
  soci::statement select =
      one_time_statement(sql,
                         "SELECT jti, client_id, expires_at FROM user_access_tokens WHERE " +
                             column + " = :v AND expires_at > :now ORDER BY jti",
                         soci::into(row.jti), soci::into(row.client_id), soci::into(row.expires_at),
                         soci::use(value), soci::use(now));
  select.execute();
  while (select.fetch()) revoked.push_back(row);
  for (const auto& token : revoked) {
    sql << "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES (:jti, :exp, :now) "
           "ON CONFLICT (jti) DO NOTHING",
        soci::use(token.jti), soci::use(token.expires_at), soci::use(now);
    sql << "UPDATE opaque_tokens SET revoked = 1 WHERE jti = :jti", soci::use(token.jti);
  }
  return revoked;
}

}  // namespace

void TokensRepository::store_refresh_token(const RefreshTokenRecord& t) {
  int used = t.used ? 1 : 0;
  int revoked = t.revoked ? 1 : 0;
  db_.with_session([&](soci::session& sql) {
    sql << "INSERT INTO refresh_tokens (token_hash, family_id, client_id, subject, scope, "
           "expires_at, used, revoked) VALUES (:h, :f, :c, :s, :scope, :exp, :used, :revoked)",
        soci::use(t.token_hash), soci::use(t.family_id), soci::use(t.client_id),
        soci::use(t.subject), soci::use(t.scope), soci::use(t.expires_at), soci::use(used),
        soci::use(revoked);
  });
}

std::optional<RefreshTokenRecord> TokensRepository::find_refresh_token(
    const std::string& token_hash) {
  std::optional<RefreshTokenRecord> found;
  db_.with_session([&](soci::session& sql) {
    RefreshTokenRecord token;
    if (read_refresh_token(sql, token_hash, token)) found = std::move(token);
  });
  return found;
}

RefreshOutcome TokensRepository::consume_refresh_token(const std::string& token_hash,
                                                       std::int64_t now, RefreshTokenRecord& out) {
  RefreshOutcome outcome = RefreshOutcome::unknown;
  db_.with_session([&](soci::session& sql) {
    // The conditional UPDATE is the claim: the database lets exactly one concurrent caller
    // change used from 0 to 1 (a row lock on PostgreSQL, the single writer on SQLite), so
    // no read-then-write window exists.
    soci::statement claim =
        one_time_statement(sql,
                           "UPDATE refresh_tokens SET used = 1 WHERE token_hash = :h AND used = 0 "
                           "AND revoked = 0 AND expires_at > :now",
                           soci::use(token_hash), soci::use(now));
    bool claimed = affected(claim) == 1;

    RefreshTokenRecord token;
    if (!read_refresh_token(sql, token_hash, token)) {
      outcome = RefreshOutcome::unknown;
      return;
    }
    if (claimed) {
      out = std::move(token);
      outcome = RefreshOutcome::consumed;
    } else if (token.used || token.revoked) {
      // RFC 9700 4.14.2: a refresh token presented twice may have been stolen, and either
      // party may be the thief; the whole grant is cut off.
      revoke_family(sql, token.family_id);
      outcome = RefreshOutcome::replayed_family_revoked;
    } else {
      outcome = RefreshOutcome::expired;
    }
  });
  return outcome;
}

void TokensRepository::revoke_refresh_family(const std::string& family_id) {
  db_.with_session([&](soci::session& sql) { revoke_family(sql, family_id); });
}

void TokensRepository::store_authorization_code(const AuthorizationCodeRecord& c) {
  db_.with_session([&](soci::session& sql) {
    sql << "INSERT INTO authorization_codes (code_hash, client_id, subject, redirect_uri, scope, "
           "code_challenge, expires_at) VALUES (:h, :c, :s, :r, :scope, :challenge, :exp)",
        soci::use(c.code_hash), soci::use(c.client_id), soci::use(c.subject),
        soci::use(c.redirect_uri), soci::use(c.scope), soci::use(c.code_challenge),
        soci::use(c.expires_at);
  });
}

CodeOutcome TokensRepository::claim_authorization_code(const std::string& code_hash,
                                                       const std::string& family_id,
                                                       AuthorizationCodeRecord& out) {
  CodeOutcome outcome = CodeOutcome::unknown;
  db_.in_transaction([&](soci::session& sql) {
    // As for refresh tokens, the conditional UPDATE is the claim: of concurrent callers,
    // exactly one changes used from 0 to 1.
    soci::statement claim =
        one_time_statement(sql,
                           "UPDATE authorization_codes SET used = 1, family_id = :f "
                           "WHERE code_hash = :h AND used = 0",
                           soci::use(family_id), soci::use(code_hash));
    bool claimed = affected(claim) == 1;
    AuthorizationCodeRecord c;
    int used = 0;
    sql << "SELECT code_hash, client_id, subject, redirect_uri, scope, code_challenge, "
           "expires_at, family_id, used FROM authorization_codes WHERE code_hash = :h",
        soci::into(c.code_hash), soci::into(c.client_id), soci::into(c.subject),
        soci::into(c.redirect_uri), soci::into(c.scope), soci::into(c.code_challenge),
        soci::into(c.expires_at), soci::into(c.family_id), soci::into(used), soci::use(code_hash);
    if (!sql.got_data()) return;
    if (!claimed) {
      sql << "UPDATE authorization_codes SET used = 2 WHERE code_hash = :h", soci::use(code_hash);
      outcome = CodeOutcome::replayed;
    } else {
      outcome = CodeOutcome::claimed;
    }
    out = std::move(c);
  });
  return outcome;
}

bool TokensRepository::is_authorization_code_replayed(const std::string& code_hash) {
  int used = 0;
  db_.with_session([&](soci::session& sql) {
    sql << "SELECT used FROM authorization_codes WHERE code_hash = :h", soci::into(used),
        soci::use(code_hash);
  });
  return used == 2;
}

void TokensRepository::store_opaque_token(const OpaqueTokenRecord& t) {
  int revoked = t.revoked ? 1 : 0;
  db_.with_session([&](soci::session& sql) {
    sql << "INSERT INTO opaque_tokens (token_hash, jti, client_id, subject, scope, key_type, "
           "issued_at, expires_at, revoked, user_type) VALUES (:h, :jti, :c, :s, :scope, "
           ":key_type, :iat, :exp, :revoked, :user_type)",
        soci::use(t.token_hash), soci::use(t.jti), soci::use(t.client_id), soci::use(t.subject),
        soci::use(t.scope), soci::use(t.key_type), soci::use(t.issued_at), soci::use(t.expires_at),
        soci::use(revoked), soci::use(t.user_type);
  });
}

std::optional<OpaqueTokenRecord> TokensRepository::find_opaque_token(
    const std::string& token_hash) {
  std::optional<OpaqueTokenRecord> found;
  db_.with_session([&](soci::session& sql) {
    OpaqueTokenRecord t;
    int revoked = 0;
    sql << "SELECT token_hash, jti, client_id, subject, scope, key_type, issued_at, expires_at, "
           "revoked, user_type FROM opaque_tokens WHERE token_hash = :h",
        soci::into(t.token_hash), soci::into(t.jti), soci::into(t.client_id), soci::into(t.subject),
        soci::into(t.scope), soci::into(t.key_type), soci::into(t.issued_at),
        soci::into(t.expires_at), soci::into(revoked), soci::into(t.user_type),
        soci::use(token_hash);
    if (!sql.got_data()) return;
    t.revoked = revoked != 0;
    found = std::move(t);
  });
  return found;
}

bool TokensRepository::revoke_opaque_token(const std::string& token_hash) {
  bool found = false;
  db_.with_session([&](soci::session& sql) {
    // Revoking twice still reports the token as known: RFC 7009 revocation is idempotent.
    soci::statement st = one_time_statement(sql,
                                            "UPDATE opaque_tokens SET revoked = 1 "
                                            "WHERE token_hash = :h",
                                            soci::use(token_hash));
    found = affected(st) > 0;
  });
  return found;
}

void TokensRepository::store_user_access_token(const UserAccessTokenRecord& t) {
  db_.with_session([&](soci::session& sql) {
    sql << "INSERT INTO user_access_tokens (jti, family_id, client_id, subject, expires_at) "
           "VALUES (:jti, :f, :c, :s, :exp)",
        soci::use(t.jti), soci::use(t.family_id), soci::use(t.client_id), soci::use(t.subject),
        soci::use(t.expires_at);
  });
}

std::vector<RevokedAccessToken> TokensRepository::revoke_user_tokens(const std::string& subject,
                                                                     std::int64_t now) {
  std::vector<RevokedAccessToken> revoked;
  db_.in_transaction([&](soci::session& sql) {
    sql << "UPDATE refresh_tokens SET revoked = 1 WHERE subject = :s", soci::use(subject);
    revoked = revoke_user_access_tokens(sql, "subject", subject, now);
  });
  return revoked;
}

std::vector<RevokedAccessToken> TokensRepository::revoke_grant(const std::string& family_id,
                                                               std::int64_t now) {
  std::vector<RevokedAccessToken> revoked;
  db_.in_transaction([&](soci::session& sql) {
    revoke_family(sql, family_id);
    revoked = revoke_user_access_tokens(sql, "family_id", family_id, now);
  });
  return revoked;
}

void TokensRepository::revoke_jti(const std::string& jti, std::int64_t expires_at,
                                  std::int64_t now) {
  db_.with_session([&](soci::session& sql) {
    // Revoking a revoked token is not a conflict; both backends know ON CONFLICT.
    sql << "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES (:jti, :exp, :now) "
           "ON CONFLICT (jti) DO NOTHING",
        soci::use(jti), soci::use(expires_at), soci::use(now);
  });
}

bool TokensRepository::is_jti_revoked(const std::string& jti) {
  int n = 0;
  db_.with_session([&](soci::session& sql) {
    sql << "SELECT COUNT(*) FROM revoked_tokens WHERE jti = :jti", soci::into(n), soci::use(jti);
  });
  return n > 0;
}

std::vector<std::pair<std::string, std::int64_t>> TokensRepository::list_revoked_jtis(
    std::int64_t now) {
  std::vector<std::pair<std::string, std::int64_t>> revoked;
  db_.with_session([&](soci::session& sql) {
    std::string jti;
    std::int64_t expires_at = 0;
    soci::statement st =
        one_time_statement(sql,
                           "SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > :now "
                           "ORDER BY expires_at, jti",
                           soci::into(jti), soci::into(expires_at), soci::use(now));
    st.execute();
    while (st.fetch()) revoked.emplace_back(jti, expires_at);
  });
  return revoked;
}

int TokensRepository::purge_expired(std::int64_t now) {
  long long removed = 0;
  db_.in_transaction([&](soci::session& sql) {
    // Every node purges: one at a time, so that two deleting the same rows in another order
    // cannot deadlock; the second finds little left.
    hold_cluster_lock(db_, sql, "tokens.purge");
    for (const char* query : {
             "DELETE FROM authorization_codes WHERE expires_at <= :now",
             "DELETE FROM refresh_tokens WHERE expires_at <= :now",
             "DELETE FROM opaque_tokens WHERE expires_at <= :now",
             "DELETE FROM revoked_tokens WHERE expires_at <= :now",
             "DELETE FROM user_access_tokens WHERE expires_at <= :now",
         }) {
      soci::statement st = one_time_statement(sql, query, soci::use(now));
      removed += affected(st);
    }
  });
  return static_cast<int>(removed);
}

}  // namespace portico::store

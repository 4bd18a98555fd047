#include "store/api_feedback_repository.h"

#include <soci/soci.h>

#include "store/one_time_statement.h"

namespace portico::store {

void ApiFeedbackRepository::put_rating(const RatingRecord& r) {
  long long value = r.rating;
  db_.in_transaction([&](soci::session& sql) {
    // Delete then insert: the same statement text on both backends, atomic in the transaction.
    sql << "DELETE FROM api_ratings WHERE api_id = :api AND username = :user", soci::use(r.api_id),
        soci::use(r.username);
    sql << "INSERT INTO api_ratings (api_id, username, rating) VALUES (:api, :user, :rating)",
        soci::use(r.api_id), soci::use(r.username), soci::use(value);
  });
}

std::optional<RatingRecord> ApiFeedbackRepository::find_rating(const std::string& api_id,
                                                               const std::string& username) {
  std::optional<RatingRecord> found;
  db_.with_session([&](soci::session& sql) {
    long long value = 0;
    soci::statement st = one_time_statement(
        sql, "SELECT rating FROM api_ratings WHERE api_id = :api AND username = :user",
        soci::into(value), soci::use(api_id), soci::use(username));
    if (st.execute(true)) found = RatingRecord{api_id, username, static_cast<int>(value)};
  });
  return found;
}

bool ApiFeedbackRepository::remove_rating(const std::string& api_id, const std::string& username) {
  long long changed = 0;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st =
        one_time_statement(sql, "DELETE FROM api_ratings WHERE api_id = :api AND username = :user",
                           soci::use(api_id), soci::use(username));
    st.execute(true);
    changed = st.get_affected_rows();
  });
  return changed > 0;
}

std::vector<RatingRecord> ApiFeedbackRepository::ratings(const std::string& api_id,
                                                         std::int64_t limit, std::int64_t offset) {
  std::vector<RatingRecord> out;
  long long lim = limit, off = offset;
  db_.with_session([&](soci::session& sql) {
    std::string user;
    long long value = 0;
    soci::statement st = one_time_statement(
        sql,
        "SELECT username, rating FROM api_ratings WHERE api_id = :api "
        "ORDER BY username LIMIT :limit OFFSET :offset",
        soci::into(user), soci::into(value), soci::use(api_id), soci::use(lim), soci::use(off));
    st.execute();
    while (st.fetch()) out.push_back(RatingRecord{api_id, user, static_cast<int>(value)});
  });
  return out;
}

std::pair<std::int64_t, double> ApiFeedbackRepository::rating_summary(const std::string& api_id) {
  long long count = 0, sum = 0;
  db_.with_session([&](soci::session& sql) {
    soci::indicator ind = soci::i_ok;
    sql << "SELECT COUNT(*), COALESCE(SUM(rating), 0) FROM api_ratings WHERE api_id = :api",
        soci::into(count), soci::into(sum, ind), soci::use(api_id);
  });
  return {count, count ? static_cast<double>(sum) / static_cast<double>(count) : 0.0};
}

std::map<std::string, std::pair<std::int64_t, double>> ApiFeedbackRepository::rating_summaries(
    const std::vector<std::string>& api_ids) {
  std::map<std::string, std::pair<std::int64_t, double>> out;
  if (api_ids.empty()) return out;
  db_.with_session([&](soci::session& sql) {
    std::string api, list;
    long long count = 0, sum = 0;
    soci::statement st(sql);
    st.exchange(soci::into(api));
    st.exchange(soci::into(count));
    st.exchange(soci::into(sum));
    for (std::size_t i = 0; i < api_ids.size(); ++i) {
      list += (i ? ", :i" : ":i") + std::to_string(i);
      st.exchange(soci::use(api_ids[i]));
    }
    prepare_one_time(st, "SELECT api_id, COUNT(*), SUM(rating) FROM api_ratings WHERE api_id IN (" +
                             list + ") GROUP BY api_id");
    st.execute();
    while (st.fetch())
      out[api] = {count, count ? static_cast<double>(sum) / static_cast<double>(count) : 0.0};
  });
  return out;
}

void ApiFeedbackRepository::add_comment(const CommentRecord& c) {
  long long created = c.created_time;
  db_.in_transaction([&](soci::session& sql) {
    sql << "INSERT INTO api_comments (id, api_id, username, content, created_time) VALUES "
           "(:id, :api, :user, :content, :created)",
        soci::use(c.id), soci::use(c.api_id), soci::use(c.username), soci::use(c.content),
        soci::use(created);
  });
}

std::optional<CommentRecord> ApiFeedbackRepository::find_comment(const std::string& api_id,
                                                                 const std::string& id) {
  std::optional<CommentRecord> found;
  db_.with_session([&](soci::session& sql) {
    CommentRecord c;
    long long created = 0;
    soci::statement st = one_time_statement(
        sql,
        "SELECT id, api_id, username, content, created_time FROM api_comments "
        "WHERE id = :id AND api_id = :api",
        soci::into(c.id), soci::into(c.api_id), soci::into(c.username), soci::into(c.content),
        soci::into(created), soci::use(id), soci::use(api_id));
    if (st.execute(true)) {
      c.created_time = created;
      found = c;
    }
  });
  return found;
}

std::vector<CommentRecord> ApiFeedbackRepository::comments(const std::string& api_id,
                                                           std::int64_t limit,
                                                           std::int64_t offset) {
  std::vector<CommentRecord> out;
  long long lim = limit, off = offset;
  db_.with_session([&](soci::session& sql) {
    CommentRecord c;
    long long created = 0;
    soci::statement st = one_time_statement(
        sql,
        "SELECT id, api_id, username, content, created_time FROM api_comments "
        "WHERE api_id = :api ORDER BY created_time DESC, id LIMIT :limit "
        "OFFSET :offset",
        soci::into(c.id), soci::into(c.api_id), soci::into(c.username), soci::into(c.content),
        soci::into(created), soci::use(api_id), soci::use(lim), soci::use(off));
    st.execute();
    while (st.fetch()) {
      c.created_time = created;
      out.push_back(c);
    }
  });
  return out;
}

std::int64_t ApiFeedbackRepository::count_comments(const std::string& api_id) {
  long long n = 0;
  db_.with_session([&](soci::session& sql) {
    sql << "SELECT COUNT(*) FROM api_comments WHERE api_id = :api", soci::into(n),
        soci::use(api_id);
  });
  return n;
}

bool ApiFeedbackRepository::remove_comment(const std::string& id) {
  long long changed = 0;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st =
        one_time_statement(sql, "DELETE FROM api_comments WHERE id = :id", soci::use(id));
    st.execute(true);
    changed = st.get_affected_rows();
  });
  return changed > 0;
}

}  // namespace portico::store

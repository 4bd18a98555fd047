#include "store/apis_repository.h"

#include <soci/soci.h>

#include <algorithm>
#include <cctype>

#include "store/one_time_statement.h"

namespace portico::store {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A LIKE pattern matching `text` anywhere, with LIKE's own wildcards escaped ('\' is the
// escape character named by every query below).
std::string contains_pattern(const std::string& text) {
  std::string out = "%";
  for (char c : lower(text)) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

void write_children(soci::session& sql, const ApiRecord& api) {
  sql << "DELETE FROM api_tags WHERE api_id = :id", soci::use(api.id);
  sql << "DELETE FROM api_subscription_policies WHERE api_id = :id", soci::use(api.id);
  std::vector<std::string> tags = api.tags;
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  for (const auto& tag : tags)
    sql << "INSERT INTO api_tags (api_id, tag) VALUES (:id, :tag)", soci::use(api.id),
        soci::use(tag);
  std::vector<std::string> policies = api.policies;
  std::sort(policies.begin(), policies.end());
  policies.erase(std::unique(policies.begin(), policies.end()), policies.end());
  for (const auto& policy : policies)
    sql << "INSERT INTO api_subscription_policies (api_id, policy) VALUES (:id, :policy)",
        soci::use(api.id), soci::use(policy);
}

std::vector<std::string> read_column(soci::session& sql, const std::string& query,
                                     const std::string& id) {
  std::vector<std::string> out;
  std::string value;
  soci::statement st = one_time_statement(sql, query, soci::into(value), soci::use(id));
  st.execute();
  while (st.fetch()) out.push_back(value);
  return out;
}

constexpr const char* kSubscriptionColumns =
    "SELECT s.id, s.api_id, s.application_id, a.name, a.owner, a.document, s.throttling_policy, "
    "s.status, s.created_time FROM subscriptions s JOIN applications a ON a.id = "
    "s.application_id ";

}  // namespace

void ApisRepository::create(const ApiRecord& api) {
  std::int64_t is_default = api.is_default_version ? 1 : 0;
  db_.in_transaction([&](soci::session& sql) {
    // Checked here as well as by the UNIQUE constraints so that the two backends report a
    // taken name or context the same way.
    std::int64_t taken = 0;
    // Versions of one API share its context; another API may not use it.
    sql << "SELECT COUNT(*) FROM apis WHERE (version = :v AND (name = :n1 OR context = :c1)) "
           "OR (context = :c2 AND name <> :n2)",
        soci::into(taken), soci::use(api.version), soci::use(api.name), soci::use(api.context),
        soci::use(api.context), soci::use(api.name);
    if (taken > 0) throw ConflictError("an API with that name or context and version exists");
    std::string empty;
    sql << "INSERT INTO apis (id, name, version, context, provider, lifecycle_status, "
           "visibility, is_default_version, description, document, openapi, thumbnail_type, "
           "thumbnail, created_time, updated_time) VALUES (:id, :name, :version, :context, "
           ":provider, :status, :visibility, :is_default, :description, :document, :openapi, "
           ":ttype, :thumb, :created, :updated)",
        soci::use(api.id), soci::use(api.name), soci::use(api.version), soci::use(api.context),
        soci::use(api.provider), soci::use(api.lifecycle_status), soci::use(api.visibility),
        soci::use(is_default), soci::use(api.description), soci::use(api.document),
        soci::use(api.openapi), soci::use(empty), soci::use(empty), soci::use(api.created_time),
        soci::use(api.updated_time);
    write_children(sql, api);
  });
}

bool ApisRepository::update(const ApiRecord& api, const std::string& expected_document) {
  std::int64_t is_default = api.is_default_version ? 1 : 0;
  bool updated = false;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st = one_time_statement(
        sql,
        "UPDATE apis SET name = :name, version = :version, context = :context, "
        "provider = :provider, lifecycle_status = :status, visibility = "
        ":visibility, is_default_version = :is_default, description = "
        ":description, document = :document, openapi = :openapi, updated_time = "
        ":updated WHERE id = :id AND (:e1 = '' OR document = :e2)",
        soci::use(api.name), soci::use(api.version), soci::use(api.context),
        soci::use(api.provider), soci::use(api.lifecycle_status), soci::use(api.visibility),
        soci::use(is_default), soci::use(api.description), soci::use(api.document),
        soci::use(api.openapi), soci::use(api.updated_time), soci::use(api.id),
        soci::use(expected_document), soci::use(expected_document));
    st.execute(true);
    updated = st.get_affected_rows() > 0;
    if (updated) write_children(sql, api);
  });
  return updated;
}

std::optional<ApiRecord> ApisRepository::find(const std::string& id) {
  std::optional<ApiRecord> found;
  db_.with_session([&](soci::session& sql) {
    ApiRecord r;
    std::int64_t is_default = 0;
    sql << "SELECT id, name, version, context, provider, lifecycle_status, visibility, "
           "is_default_version, description, document, openapi, created_time, updated_time "
           "FROM apis WHERE id = :id",
        soci::into(r.id), soci::into(r.name), soci::into(r.version), soci::into(r.context),
        soci::into(r.provider), soci::into(r.lifecycle_status), soci::into(r.visibility),
        soci::into(is_default), soci::into(r.description), soci::into(r.document),
        soci::into(r.openapi), soci::into(r.created_time), soci::into(r.updated_time),
        soci::use(id);
    if (!sql.got_data()) return;
    r.is_default_version = is_default != 0;
    r.tags = read_column(sql, "SELECT tag FROM api_tags WHERE api_id = :id ORDER BY tag", id);
    r.policies = read_column(
        sql, "SELECT policy FROM api_subscription_policies WHERE api_id = :id ORDER BY policy", id);
    found = std::move(r);
  });
  return found;
}

ApiPage ApisRepository::search(const ApiQuery& q) {
  // The WHERE clause names only the filters given, so that the planner sees plain conditions
  // (a generic plan for "(:x = '' OR col = :y)" cannot use an index). Its text is built from
  // constants only; every value is bound, in placeholder order.
  std::string where = " WHERE 1 = 1";
  std::vector<std::string> values;
  auto add = [&](const char* condition, std::initializer_list<std::string> bound) {
    where += condition;
    values.insert(values.end(), bound);
  };
  if (!q.name.empty()) add(" AND LOWER(a.name) LIKE :n ESCAPE '\\'", {contains_pattern(q.name)});
  if (!q.status.empty()) add(" AND a.lifecycle_status = :s", {q.status});
  if (!q.provider.empty()) add(" AND a.provider = :p", {q.provider});
  if (!q.version.empty()) add(" AND a.version = :v", {q.version});
  if (!q.context.empty())
    add(" AND LOWER(a.context) LIKE :c ESCAPE '\\'", {contains_pattern(q.context)});
  if (!q.tag.empty())
    add(" AND EXISTS (SELECT 1 FROM api_tags t WHERE t.api_id = a.id AND LOWER(t.tag) = :t)",
        {lower(q.tag)});
  if (!q.text.empty()) {
    std::string pattern = contains_pattern(q.text);
    add(" AND (LOWER(a.name) LIKE :x1 ESCAPE '\\' OR LOWER(a.description) LIKE :x2 ESCAPE "
        "'\\' OR LOWER(a.context) LIKE :x3 ESCAPE '\\')",
        {pattern, pattern, pattern});
  }
  std::string column = "a.created_time";
  if (q.sort_by == "name")
    column = "LOWER(a.name)";
  else if (q.sort_by == "version")
    column = "a.version";
  else if (q.sort_by == "context")
    column = "a.context";
  else if (q.sort_by == "provider")
    column = "a.provider";
  else if (q.sort_by == "status")
    column = "a.lifecycle_status";
  std::string order = " ORDER BY " + column + (q.descending ? " DESC" : " ASC") + ", a.id ASC";

  ApiPage page;
  db_.with_session([&](soci::session& sql) {
    {
      soci::statement st(sql);
      st.exchange(soci::into(page.total));
      for (const auto& value : values) st.exchange(soci::use(value));
      prepare_one_time(st, "SELECT COUNT(*) FROM apis a" + where);
      st.execute(true);
    }
    // The page's ids first (sort keys only, no documents dragged through the sort), then
    // those rows whole: an offset deep into 10,000 APIs then costs an index walk, not a sort
    // of every document.
    ApiRecord r;
    std::int64_t is_default = 0;
    std::int64_t limit = q.limit, offset = q.offset;
    soci::statement st(sql);
    for (auto* into :
         {&r.id, &r.name, &r.version, &r.context, &r.provider, &r.lifecycle_status, &r.visibility})
      st.exchange(soci::into(*into));
    st.exchange(soci::into(is_default));
    st.exchange(soci::into(r.description));
    st.exchange(soci::into(r.document));
    st.exchange(soci::into(r.created_time));
    st.exchange(soci::into(r.updated_time));
    for (const auto& value : values) st.exchange(soci::use(value));
    st.exchange(soci::use(limit));
    st.exchange(soci::use(offset));
    prepare_one_time(
        st,
        "SELECT a.id, a.name, a.version, a.context, a.provider, a.lifecycle_status, "
        "a.visibility, a.is_default_version, a.description, a.document, a.created_time, "
        "a.updated_time FROM apis a WHERE a.id IN (SELECT a.id FROM apis a" +
            where + order + " LIMIT :limit OFFSET :offset)" + order);
    st.execute();
    while (st.fetch()) {
      r.is_default_version = is_default != 0;
      page.items.push_back(r);
    }
  });
  return page;
}

RemoveResult ApisRepository::remove(const std::string& id) {
  RemoveResult result = RemoveResult::removed;
  db_.in_transaction([&](soci::session& sql) {
    std::int64_t exists = 0, subscriptions = 0;
    sql << "SELECT COUNT(*) FROM apis WHERE id = :id", soci::into(exists), soci::use(id);
    if (exists == 0) {
      result = RemoveResult::not_found;
      return;
    }
    sql << "SELECT COUNT(*) FROM subscriptions WHERE api_id = :id", soci::into(subscriptions),
        soci::use(id);
    if (subscriptions > 0) {
      result = RemoveResult::has_subscriptions;
      return;
    }
    // Explicit rather than ON DELETE CASCADE, which SQLite applies only with foreign keys on.
    for (const char* table :
         {"api_tags", "api_subscription_policies", "api_lifecycle_history", "api_deployments",
          "api_revisions", "api_documents", "api_ratings", "api_comments"})
      sql << std::string("DELETE FROM ") + table + " WHERE api_id = :id", soci::use(id);
    sql << "DELETE FROM apis WHERE id = :id", soci::use(id);
  });
  return result;
}

std::vector<std::pair<std::string, std::string>> ApisRepository::versions_of(
    const std::string& name) {
  std::vector<std::pair<std::string, std::string>> out;
  db_.with_session([&](soci::session& sql) {
    std::string id, status;
    soci::statement st = one_time_statement(sql,
                                            "SELECT id, lifecycle_status FROM apis WHERE name = "
                                            ":name ORDER BY created_time",
                                            soci::into(id), soci::into(status), soci::use(name));
    st.execute();
    while (st.fetch()) out.emplace_back(id, status);
  });
  return out;
}

bool ApisRepository::change_lifecycle(const std::vector<LifecycleChange>& changes) {
  bool applied = true;
  struct Stale {};
  try {
    db_.in_transaction([&](soci::session& sql) {
      for (const auto& c : changes) {
        soci::statement st = one_time_statement(
            sql,
            "UPDATE apis SET lifecycle_status = :status, document = :document, "
            "updated_time = :updated WHERE id = :id AND lifecycle_status = "
            ":expected AND (:e1 = '' OR document = :e2)",
            soci::use(c.new_state), soci::use(c.document), soci::use(c.event.updated_time),
            soci::use(c.api_id), soci::use(c.expected_state), soci::use(c.expected_document),
            soci::use(c.expected_document));
        st.execute(true);
        if (st.get_affected_rows() == 0) throw Stale{};
        std::int64_t sequence = 0;
        sql << "SELECT COALESCE(MAX(sequence), 0) FROM api_lifecycle_history WHERE api_id = :id",
            soci::into(sequence), soci::use(c.api_id);
        ++sequence;
        sql << "INSERT INTO api_lifecycle_history (id, api_id, previous_state, post_state, "
               "username, updated_time, sequence) VALUES (:id, :api, :prev, :post, :user, :time, "
               ":seq)",
            soci::use(c.event.id), soci::use(c.api_id), soci::use(c.event.previous_state),
            soci::use(c.event.post_state), soci::use(c.event.username),
            soci::use(c.event.updated_time), soci::use(sequence);
      }
    });
  } catch (const Stale&) {
    applied = false;
  }
  return applied;
}

std::vector<LifecycleEvent> ApisRepository::lifecycle_history(const std::string& api_id) {
  std::vector<LifecycleEvent> out;
  db_.with_session([&](soci::session& sql) {
    LifecycleEvent e;
    soci::statement st =
        one_time_statement(sql,
                           "SELECT id, api_id, previous_state, post_state, username, updated_time "
                           "FROM api_lifecycle_history WHERE api_id = :id ORDER BY sequence",
                           soci::into(e.id), soci::into(e.api_id), soci::into(e.previous_state),
                           soci::into(e.post_state), soci::into(e.username),
                           soci::into(e.updated_time), soci::use(api_id));
    st.execute();
    while (st.fetch()) out.push_back(e);
  });
  return out;
}

bool ApisRepository::set_thumbnail(const std::string& api_id, const std::string& type,
                                   const std::string& base64_data, const std::string& document,
                                   const std::string& expected_document) {
  bool updated = false;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st = one_time_statement(
        sql,
        "UPDATE apis SET thumbnail_type = :type, thumbnail = "
        ":data, document = :doc WHERE id = :id AND (:e1 = '' "
        "OR document = :e2)",
        soci::use(type), soci::use(base64_data), soci::use(document), soci::use(api_id),
        soci::use(expected_document), soci::use(expected_document));
    st.execute(true);
    updated = st.get_affected_rows() > 0;
  });
  return updated;
}

std::optional<std::pair<std::string, std::string>> ApisRepository::thumbnail(
    const std::string& api_id) {
  std::optional<std::pair<std::string, std::string>> out;
  db_.with_session([&](soci::session& sql) {
    std::string type, data;
    sql << "SELECT thumbnail_type, thumbnail FROM apis WHERE id = :id", soci::into(type),
        soci::into(data), soci::use(api_id);
    if (sql.got_data()) out.emplace(type, data);
  });
  return out;
}

std::vector<std::pair<std::string, std::string>> ApisRepository::all_documents() {
  std::vector<std::pair<std::string, std::string>> out;
  db_.with_session([&](soci::session& sql) {
    std::string id, document;
    soci::statement st = one_time_statement(sql, "SELECT id, document FROM apis", soci::into(id),
                                            soci::into(document));
    st.execute();
    while (st.fetch()) out.emplace_back(id, document);
  });
  return out;
}

std::int64_t ApisRepository::count_subscriptions(const std::string& api_id) {
  std::int64_t count = 0;
  db_.with_session([&](soci::session& sql) {
    // Two texts rather than "(:a = '' OR api_id = :a)", whose generic plan scans the table.
    if (api_id.empty())
      sql << "SELECT COUNT(*) FROM subscriptions", soci::into(count);
    else
      sql << "SELECT COUNT(*) FROM subscriptions WHERE api_id = :a", soci::into(count),
          soci::use(api_id);
  });
  return count;
}

std::vector<ApiSubscription> ApisRepository::subscriptions(const std::string& api_id,
                                                           std::int64_t limit, std::int64_t offset,
                                                           std::int64_t total) {
  std::vector<ApiSubscription> out;
  // PostgreSQL checks every index entry an OFFSET skips against the table (until a VACUUM
  // marks the pages all-visible), so the walk's length is the cost: past the middle, the same
  // page is the one at (total - offset - limit) counted from the end.
  const char* walk = " ORDER BY s.created_time, s.id";
  if (total >= 0 && offset > total / 2) {
    if (offset >= total) return out;
    std::int64_t from_end = total - offset - limit;
    limit = from_end < 0 ? limit + from_end : limit;
    offset = from_end < 0 ? 0 : from_end;
    walk = " ORDER BY s.created_time DESC, s.id DESC";
  }
  db_.with_session([&](soci::session& sql) {
    // The page's ids come from an index in (api_id,) created_time, id order (migration 0005);
    // only those rows are joined to their applications.
    static constexpr const char* kOrder = " ORDER BY s.created_time, s.id";
    std::string page_ids = api_id.empty() ? "SELECT s.id FROM subscriptions s"
                                          : "SELECT s.id FROM subscriptions s WHERE s.api_id = :a";
    ApiSubscription s;
    soci::statement st(sql);
    for (auto* into :
         {&s.id, &s.api_id, &s.application_id, &s.application_name, &s.application_owner,
          &s.application_document, &s.throttling_policy, &s.status})
      st.exchange(soci::into(*into));
    st.exchange(soci::into(s.created_time));
    if (!api_id.empty()) st.exchange(soci::use(api_id));
    st.exchange(soci::use(limit));
    st.exchange(soci::use(offset));
    prepare_one_time(st, std::string(kSubscriptionColumns) + "WHERE s.id IN (" + page_ids + walk +
                             " LIMIT :limit OFFSET :offset)" + kOrder);
    st.execute();
    while (st.fetch()) out.push_back(s);
  });
  return out;
}

std::optional<ApiSubscription> ApisRepository::find_subscription(const std::string& id) {
  std::optional<ApiSubscription> out;
  db_.with_session([&](soci::session& sql) {
    ApiSubscription s;
    sql << std::string(kSubscriptionColumns) + "WHERE s.id = :id", soci::into(s.id),
        soci::into(s.api_id), soci::into(s.application_id), soci::into(s.application_name),
        soci::into(s.application_owner), soci::into(s.application_document),
        soci::into(s.throttling_policy), soci::into(s.status), soci::into(s.created_time),
        soci::use(id);
    if (sql.got_data()) out = std::move(s);
  });
  return out;
}

bool ApisRepository::set_subscription_status(const std::string& id, const std::string& status,
                                             std::int64_t updated_time) {
  bool updated = false;
  db_.in_transaction([&](soci::session& sql) {
    soci::statement st =
        one_time_statement(sql,
                           "UPDATE subscriptions SET status = :status, "
                           "updated_time = :time WHERE id = :id",
                           soci::use(status), soci::use(updated_time), soci::use(id));
    st.execute(true);
    updated = st.get_affected_rows() > 0;
  });
  return updated;
}

}  // namespace portico::store

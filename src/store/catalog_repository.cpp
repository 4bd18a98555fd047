#include "store/catalog_repository.h"

#include <soci/soci.h>

#include <algorithm>
#include <cctype>

#include "store/one_time_statement.h"

namespace portico::store {
namespace {

constexpr const char* kSelectApi =
    "SELECT id, name, version, context, provider, lifecycle_status, visibility, description, "
    "document, created_time, updated_time, CASE WHEN thumbnail_type = '' THEN 0 ELSE 1 END "
    "FROM apis ";

struct ApiRow {
  CatalogApi api;
  long long created = 0;
  long long updated = 0;
  int thumbnail = 0;

  void into(soci::statement& st) {
    st.exchange(soci::into(api.id));
    st.exchange(soci::into(api.name));
    st.exchange(soci::into(api.version));
    st.exchange(soci::into(api.context));
    st.exchange(soci::into(api.provider));
    st.exchange(soci::into(api.lifecycle_status));
    st.exchange(soci::into(api.visibility));
    st.exchange(soci::into(api.description));
    st.exchange(soci::into(api.document));
    st.exchange(soci::into(created));
    st.exchange(soci::into(updated));
    st.exchange(soci::into(thumbnail));
  }
  CatalogApi finish() {
    api.created_time = created;
    api.updated_time = updated;
    api.has_thumbnail = thumbnail != 0;
    return api;
  }
};

// The WHERE clause of a search and its bound values, in placeholder order. Every piece of
// text is constant; values are only ever bound.
struct SearchSql {
  std::string where;
  std::vector<std::string> values;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string like_pattern(const std::string& text) {
  std::string out = "%";
  for (char c : lower(text)) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

std::vector<std::string> strings(Database& db, const std::string& query, const std::string& param) {
  std::vector<std::string> out;
  db.with_session([&](soci::session& sql) {
    std::string value;
    soci::statement st = one_time_statement(sql, query, soci::into(value), soci::use(param));
    st.execute();
    while (st.fetch()) out.push_back(value);
  });
  return out;
}

// `column` of `table` for each of `api_ids` (one statement for a whole page of APIs), sorted.
std::map<std::string, std::vector<std::string>> values_by_api(
    Database& db, const std::string& table, const std::string& column,
    const std::vector<std::string>& api_ids) {
  std::map<std::string, std::vector<std::string>> out;
  if (api_ids.empty()) return out;
  db.with_session([&](soci::session& sql) {
    std::string api, value, list;
    soci::statement st(sql);
    st.exchange(soci::into(api));
    st.exchange(soci::into(value));
    for (std::size_t i = 0; i < api_ids.size(); ++i) {
      list += (i ? ", :i" : ":i") + std::to_string(i);
      st.exchange(soci::use(api_ids[i]));
    }
    prepare_one_time(st, "SELECT api_id, " + column + " FROM " + table + " WHERE api_id IN (" +
                             list + ") ORDER BY api_id, " + column);
    st.execute();
    while (st.fetch()) out[api].push_back(value);
  });
  return out;
}

}  // namespace

std::optional<CatalogApi> CatalogRepository::find(const std::string& id) {
  std::optional<CatalogApi> found;
  db_.with_session([&](soci::session& sql) {
    ApiRow r;
    soci::statement st(sql);
    r.into(st);
    st.exchange(soci::use(id));
    prepare_one_time(st, std::string(kSelectApi) + "WHERE id = :id");
    if (st.execute(true)) found = r.finish();
  });
  return found;
}

std::vector<CatalogApi> CatalogRepository::find_all(const std::vector<std::string>& ids) {
  std::vector<CatalogApi> out;
  if (ids.empty()) return out;
  db_.with_session([&](soci::session& sql) {
    ApiRow r;
    soci::statement st(sql);
    r.into(st);
    std::string list;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      list += (i ? ", :i" : ":i") + std::to_string(i);
      st.exchange(soci::use(ids[i]));
    }
    prepare_one_time(st, std::string(kSelectApi) + "WHERE id IN (" + list + ") ORDER BY id");
    st.execute();
    while (st.fetch()) out.push_back(r.finish());
  });
  return out;
}

namespace {

SearchSql search_sql(const CatalogSearch& s) {
  SearchSql out;
  auto placeholders = [&](const std::vector<std::string>& values, const char* prefix) {
    std::string list;
    for (std::size_t i = 0; i < values.size(); ++i) {
      list += (i ? ", :" : ":") + std::string(prefix) + std::to_string(i);
      out.values.push_back(values[i]);
    }
    return list;
  };
  out.where = "WHERE lifecycle_status IN (" + placeholders(s.statuses, "st") + ") ";
  if (!s.visibilities.empty()) {
    out.where += "AND visibility IN (" + placeholders(s.visibilities, "vi") + ") ";
  }
  struct Like {
    const char* column;
    const std::string* value;
  };
  int n = 0;
  for (const Like& like :
       {Like{"name", &s.name}, Like{"provider", &s.provider}, Like{"version", &s.version},
        Like{"context", &s.context}, Like{"description", &s.description}}) {
    if (like.value->empty()) continue;
    out.where += "AND LOWER(" + std::string(like.column) + ") LIKE :l" + std::to_string(n++) +
                 " ESCAPE '\\' ";
    out.values.push_back(like_pattern(*like.value));
  }
  if (!s.text.empty()) {
    out.where +=
        "AND (LOWER(name) LIKE :t0 ESCAPE '\\' OR LOWER(description) LIKE :t1 "
        "ESCAPE '\\') ";
    out.values.push_back(like_pattern(s.text));
    out.values.push_back(like_pattern(s.text));
  }
  if (!s.tag.empty()) {
    out.where += "AND EXISTS (SELECT 1 FROM api_tags g WHERE g.api_id = apis.id AND g.tag = :g) ";
    out.values.push_back(s.tag);
  }
  return out;
}

}  // namespace

std::vector<CatalogApi> CatalogRepository::search(const CatalogSearch& s) {
  return search_page(s, -1, 0);
}

std::vector<CatalogApi> CatalogRepository::search_page(const CatalogSearch& s, std::int64_t limit,
                                                       std::int64_t offset) {
  std::vector<CatalogApi> out;
  if (s.statuses.empty()) return out;
  SearchSql q = search_sql(s);
  long long lim = limit, off = offset;
  db_.with_session([&](soci::session& sql) {
    ApiRow r;
    soci::statement st(sql);
    r.into(st);
    for (const auto& value : q.values) st.exchange(soci::use(value));
    static constexpr const char* kOrder = "ORDER BY name, version, id";
    std::string text = std::string(kSelectApi) + q.where + kOrder;
    if (limit >= 0) {
      // A page's ids first (sort keys only, walked along apis_name_version_id), then those
      // rows whole: an offset deep into the catalog must not sort every document.
      text = std::string(kSelectApi) + "WHERE id IN (SELECT id FROM apis " + q.where + kOrder +
             " LIMIT :limit OFFSET :offset) " + kOrder;
      st.exchange(soci::use(lim));
      st.exchange(soci::use(off));
    }
    prepare_one_time(st, text);
    st.execute();
    while (st.fetch()) out.push_back(r.finish());
  });
  return out;
}

std::int64_t CatalogRepository::count(const CatalogSearch& s) {
  if (s.statuses.empty()) return 0;
  SearchSql q = search_sql(s);
  long long n = 0;
  db_.with_session([&](soci::session& sql) {
    soci::statement st(sql);
    st.exchange(soci::into(n));
    for (const auto& value : q.values) st.exchange(soci::use(value));
    prepare_one_time(st, "SELECT COUNT(*) FROM apis " + q.where);
    st.execute(true);
  });
  return n;
}

std::vector<std::string> CatalogRepository::tags(const std::string& api_id) {
  return strings(db_, "SELECT tag FROM api_tags WHERE api_id = :id ORDER BY tag", api_id);
}

std::vector<std::pair<std::string, std::string>> CatalogRepository::all_tags() {
  std::vector<std::pair<std::string, std::string>> out;
  db_.with_session([&](soci::session& sql) {
    std::string api, tag;
    soci::statement st = one_time_statement(sql, "SELECT api_id, tag FROM api_tags ORDER BY tag",
                                            soci::into(api), soci::into(tag));
    st.execute();
    while (st.fetch()) out.emplace_back(api, tag);
  });
  return out;
}

std::vector<std::string> CatalogRepository::subscription_policies(const std::string& api_id) {
  return strings(db_,
                 "SELECT policy FROM api_subscription_policies WHERE api_id = :id ORDER BY policy",
                 api_id);
}

std::map<std::string, std::vector<std::string>> CatalogRepository::subscription_policies_of(
    const std::vector<std::string>& api_ids) {
  return values_by_api(db_, "api_subscription_policies", "policy", api_ids);
}

std::map<std::string, std::vector<std::string>> CatalogRepository::tags_of(
    const std::vector<std::string>& api_ids) {
  return values_by_api(db_, "api_tags", "tag", api_ids);
}

std::vector<CatalogDeployment> CatalogRepository::deployments(const std::string& api_id) {
  std::vector<CatalogDeployment> out;
  db_.with_session([&](soci::session& sql) {
    CatalogDeployment d;
    long long display = 0;
    soci::statement st = one_time_statement(
        sql,
        "SELECT environment, vhost, display_on_devportal FROM api_deployments "
        "WHERE api_id = :id ORDER BY environment",
        soci::into(d.environment), soci::into(d.vhost), soci::into(display), soci::use(api_id));
    st.execute();
    while (st.fetch()) {
      d.display_on_devportal = display != 0;
      out.push_back(d);
    }
  });
  return out;
}

std::optional<std::string> CatalogRepository::openapi(const std::string& api_id) {
  auto found = strings(db_, "SELECT openapi FROM apis WHERE id = :id", api_id);
  if (found.empty() || found.front().empty()) return std::nullopt;
  return found.front();
}

std::optional<std::pair<std::string, std::string>> CatalogRepository::thumbnail(
    const std::string& api_id) {
  std::optional<std::pair<std::string, std::string>> out;
  db_.with_session([&](soci::session& sql) {
    std::string type, data;
    soci::statement st =
        one_time_statement(sql, "SELECT thumbnail_type, thumbnail FROM apis WHERE id = :id",
                           soci::into(type), soci::into(data), soci::use(api_id));
    if (st.execute(true) && !data.empty()) out.emplace(type, data);
  });
  return out;
}

std::vector<CatalogDocument> CatalogRepository::documents(const std::string& api_id) {
  std::vector<CatalogDocument> out;
  db_.with_session([&](soci::session& sql) {
    CatalogDocument d;
    long long created = 0;
    soci::statement st = one_time_statement(
        sql,
        "SELECT id, api_id, name, document, content, created_time FROM "
        "api_documents WHERE api_id = :id ORDER BY name",
        soci::into(d.id), soci::into(d.api_id), soci::into(d.name), soci::into(d.document),
        soci::into(d.content), soci::into(created), soci::use(api_id));
    st.execute();
    while (st.fetch()) {
      d.created_time = created;
      out.push_back(d);
    }
  });
  return out;
}

std::optional<CatalogDocument> CatalogRepository::document(const std::string& api_id,
                                                           const std::string& document_id) {
  for (auto& d : documents(api_id)) {
    if (d.id == document_id) return d;
  }
  return std::nullopt;
}

}  // namespace portico::store

#include "store/catalog_repository.h"

#include <soci/soci.h>

#include <algorithm>
#include <cctype>

namespace portico::store {
namespace {

constexpr const char* kSelectApi =
    "SELECT id, name, version, context, provider, lifecycle_status, visibility, description, "
    "document, created_time, updated_time FROM apis ";

struct ApiRow {
  CatalogApi api;
  long long created = 0;
  long long updated = 0;
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

std::vector<std::string> strings(Database& db, const std::string& query,
                                 const std::string& param) {
  std::vector<std::string> out;
  db.with_session([&](soci::session& sql) {
    std::string value;
    soci::statement st = (sql.prepare << query, soci::into(value), soci::use(param));
    st.execute();
    while (st.fetch()) out.push_back(value);
  });
  return out;
}

}  // namespace

std::optional<CatalogApi> CatalogRepository::find(const std::string& id) {
  std::optional<CatalogApi> found;
  db_.with_session([&](soci::session& sql) {
    ApiRow r;
    soci::statement st =
        (sql.prepare << std::string(kSelectApi) + "WHERE id = :id", soci::into(r.api.id),
         soci::into(r.api.name), soci::into(r.api.version), soci::into(r.api.context),
         soci::into(r.api.provider), soci::into(r.api.lifecycle_status),
         soci::into(r.api.visibility), soci::into(r.api.description), soci::into(r.api.document),
         soci::into(r.created), soci::into(r.updated), soci::use(id));
    if (st.execute(true)) {
      r.api.created_time = r.created;
      r.api.updated_time = r.updated;
      found = r.api;
    }
  });
  return found;
}

std::vector<CatalogApi> CatalogRepository::search(const CatalogSearch& s) {
  std::vector<CatalogApi> out;
  if (s.statuses.empty()) return out;
  // At most a handful of states: each is bound, never spliced into the text.
  std::string states;
  for (std::size_t i = 0; i < s.statuses.size(); ++i) {
    states += (i ? ", :st" : ":st") + std::to_string(i);
  }
  const std::string where =
      "WHERE lifecycle_status IN (" + states +
      ") AND (:n1 = '%%' OR LOWER(name) LIKE :n2 ESCAPE '\\') "
      "AND (:p1 = '%%' OR LOWER(provider) LIKE :p2 ESCAPE '\\') "
      "AND (:v1 = '%%' OR LOWER(version) LIKE :v2 ESCAPE '\\') "
      "AND (:c1 = '%%' OR LOWER(context) LIKE :c2 ESCAPE '\\') "
      "AND (:d1 = '%%' OR LOWER(description) LIKE :d2 ESCAPE '\\') "
      "AND (:t1 = '%%' OR LOWER(name) LIKE :t2 ESCAPE '\\' OR LOWER(description) LIKE :t3 "
      "ESCAPE '\\') "
      "AND (:g1 = '' OR EXISTS (SELECT 1 FROM api_tags g WHERE g.api_id = apis.id AND "
      "g.tag = :g2)) ";
  const std::string n = like_pattern(s.name), p = like_pattern(s.provider),
                    v = like_pattern(s.version), c = like_pattern(s.context),
                    d = like_pattern(s.description), t = like_pattern(s.text);
  db_.with_session([&](soci::session& sql) {
    ApiRow r;
    soci::statement st(sql);
    st.exchange(soci::into(r.api.id));
    st.exchange(soci::into(r.api.name));
    st.exchange(soci::into(r.api.version));
    st.exchange(soci::into(r.api.context));
    st.exchange(soci::into(r.api.provider));
    st.exchange(soci::into(r.api.lifecycle_status));
    st.exchange(soci::into(r.api.visibility));
    st.exchange(soci::into(r.api.description));
    st.exchange(soci::into(r.api.document));
    st.exchange(soci::into(r.created));
    st.exchange(soci::into(r.updated));
    for (const auto& state : s.statuses) st.exchange(soci::use(state));
    for (const std::string* value : {&n, &n, &p, &p, &v, &v, &c, &c, &d, &d, &t, &t, &t}) {
      st.exchange(soci::use(*value));
    }
    st.exchange(soci::use(s.tag));
    st.exchange(soci::use(s.tag));
    st.alloc();
    st.prepare(std::string(kSelectApi) + where + "ORDER BY name, version, id");
    st.define_and_bind();
    st.execute();
    while (st.fetch()) {
      r.api.created_time = r.created;
      r.api.updated_time = r.updated;
      out.push_back(r.api);
    }
  });
  return out;
}

std::vector<std::string> CatalogRepository::tags(const std::string& api_id) {
  return strings(db_, "SELECT tag FROM api_tags WHERE api_id = :id ORDER BY tag", api_id);
}

std::vector<std::pair<std::string, std::string>> CatalogRepository::all_tags() {
  std::vector<std::pair<std::string, std::string>> out;
  db_.with_session([&](soci::session& sql) {
    std::string api, tag;
    soci::statement st = (sql.prepare << "SELECT api_id, tag FROM api_tags ORDER BY tag",
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

std::vector<CatalogDeployment> CatalogRepository::deployments(const std::string& api_id) {
  std::vector<CatalogDeployment> out;
  db_.with_session([&](soci::session& sql) {
    CatalogDeployment d;
    long long display = 0;
    soci::statement st =
        (sql.prepare << "SELECT environment, vhost, display_on_devportal FROM api_deployments "
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
    soci::statement st = (sql.prepare << "SELECT thumbnail_type, thumbnail FROM apis WHERE id = :id",
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
    soci::statement st =
        (sql.prepare << "SELECT id, api_id, name, document, content, created_time FROM "
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

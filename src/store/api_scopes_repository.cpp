#include "store/api_scopes_repository.h"

#include <soci/soci.h>

#include <algorithm>

#include "store/cluster_lock.h"
#include "store/one_time_statement.h"

namespace portico::store {
namespace {

constexpr std::string_view kLock = "api_scopes";

std::string join_roles(const std::vector<std::string>& roles) {
  std::string out;
  for (const auto& role : roles) {
    if (role.find('\n') != std::string::npos) continue;  // no role name has one
    if (!out.empty()) out += '\n';
    out += role;
  }
  return out;
}

std::vector<std::string> split_roles(const std::string& text) {
  std::vector<std::string> roles;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) roles.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return roles;
}

// Returns how many scopes `api_id` had before.
int write_scopes(soci::session& sql, const std::string& api_id, const std::string& owner,
                 const ScopeBindings& scopes) {
  int before = 0;
  sql << "SELECT COUNT(*) FROM api_scopes WHERE api_id = :id", soci::use(api_id),
      soci::into(before);
  sql << "DELETE FROM api_scopes WHERE api_id = :id", soci::use(api_id);
  std::vector<std::string> written;
  for (const auto& [name, roles] : scopes) {
    // A name listed twice keeps its first definition.
    if (std::find(written.begin(), written.end(), name) != written.end()) continue;
    written.push_back(name);
    std::string joined = join_roles(roles);
    sql << "INSERT INTO api_scopes (api_id, name, owner, roles) VALUES (:id, :name, :owner, "
           ":roles)",
        soci::use(api_id), soci::use(name), soci::use(owner), soci::use(joined);
  }
  return before;
}

}  // namespace

std::optional<std::string> ApiScopesRepository::claim(const std::string& api_id,
                                                      const std::string& owner,
                                                      const ScopeBindings& scopes,
                                                      const std::vector<std::string>& kept) {
  std::optional<std::string> taken;
  db_.in_transaction([&](soci::session& sql) {
    hold_cluster_lock(db_, sql, kLock);
    for (const auto& [name, roles] : scopes) {
      if (std::find(kept.begin(), kept.end(), name) != kept.end()) continue;
      int others = 0;
      sql << "SELECT COUNT(*) FROM api_scopes WHERE name = :name AND owner <> :owner "
             "AND api_id <> :id",
          soci::use(name), soci::use(owner), soci::use(api_id), soci::into(others);
      if (others > 0) {
        taken = name;
        return;
      }
    }
    write_scopes(sql, api_id, owner, scopes);
  });
  return taken;
}

int ApiScopesRepository::replace(const std::string& api_id, const std::string& owner,
                                 const ScopeBindings& scopes) {
  int before = 0;
  db_.in_transaction([&](soci::session& sql) {
    hold_cluster_lock(db_, sql, kLock);
    before = write_scopes(sql, api_id, owner, scopes);
  });
  return before;
}

void ApiScopesRepository::insert_if_none(const std::string& api_id, const std::string& owner,
                                         const ScopeBindings& scopes) {
  if (scopes.empty()) return;
  db_.in_transaction([&](soci::session& sql) {
    hold_cluster_lock(db_, sql, kLock);
    int stored = 0;
    sql << "SELECT COUNT(*) FROM api_scopes WHERE api_id = :id", soci::use(api_id),
        soci::into(stored);
    if (stored == 0) write_scopes(sql, api_id, owner, scopes);
  });
}

int ApiScopesRepository::remove(const std::string& api_id) {
  int before = 0;
  db_.in_transaction([&](soci::session& sql) {
    hold_cluster_lock(db_, sql, kLock);
    before = write_scopes(sql, api_id, "", {});
  });
  return before;
}

std::vector<std::vector<std::string>> ApiScopesRepository::definitions(const std::string& scope) {
  std::vector<std::vector<std::string>> out;
  db_.with_session([&](soci::session& sql) {
    std::string roles;
    soci::statement st = one_time_statement(sql,
                                            "SELECT roles FROM api_scopes WHERE name = :name "
                                            "ORDER BY api_id",
                                            soci::use(scope), soci::into(roles));
    st.execute();
    while (st.fetch()) out.push_back(split_roles(roles));
  });
  return out;
}

}  // namespace portico::store

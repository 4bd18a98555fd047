#include "store/api_revisions_repository.h"

#include <soci/soci.h>

#include "store/one_time_statement.h"

namespace portico::store {

RevisionCreateResult ApiRevisionsRepository::create(ApiRevisionRecord& r,
                                                    std::int64_t max_revisions) {
  RevisionCreateResult result = RevisionCreateResult::created;
  db_.in_transaction([&](soci::session& sql) {
    sql << "SELECT document, openapi FROM apis WHERE id = :id", soci::into(r.document),
        soci::into(r.openapi), soci::use(r.api_id);
    if (!sql.got_data()) {
      result = RevisionCreateResult::api_not_found;
      return;
    }
    std::int64_t count = 0, highest = 0;
    sql << "SELECT COUNT(*), COALESCE(MAX(revision_number), 0) FROM api_revisions WHERE api_id "
           "= :id",
        soci::into(count), soci::into(highest), soci::use(r.api_id);
    if (count >= max_revisions) {
      result = RevisionCreateResult::limit_reached;
      return;
    }
    r.revision_number = highest + 1;
    sql << "INSERT INTO api_revisions (id, api_id, revision_number, description, document, "
           "openapi, created_time) VALUES (:id, :api, :n, :d, :doc, :oas, :t)",
        soci::use(r.id), soci::use(r.api_id), soci::use(r.revision_number),
        soci::use(r.description), soci::use(r.document), soci::use(r.openapi),
        soci::use(r.created_time);
  });
  return result;
}

std::vector<ApiRevisionRecord> ApiRevisionsRepository::list(const std::string& api_id) {
  std::vector<ApiRevisionRecord> out;
  db_.with_session([&](soci::session& sql) {
    ApiRevisionRecord r;
    soci::statement st = one_time_statement(
        sql,
        "SELECT id, api_id, revision_number, description, created_time FROM "
        "api_revisions WHERE api_id = :id ORDER BY revision_number",
        soci::into(r.id), soci::into(r.api_id), soci::into(r.revision_number),
        soci::into(r.description), soci::into(r.created_time), soci::use(api_id));
    st.execute();
    while (st.fetch()) out.push_back(r);
  });
  return out;
}

std::optional<ApiRevisionRecord> ApiRevisionsRepository::find(const std::string& api_id,
                                                              const std::string& id) {
  std::optional<ApiRevisionRecord> out;
  db_.with_session([&](soci::session& sql) {
    ApiRevisionRecord r;
    sql << "SELECT id, api_id, revision_number, description, document, openapi, created_time "
           "FROM api_revisions WHERE api_id = :api AND id = :id",
        soci::into(r.id), soci::into(r.api_id), soci::into(r.revision_number),
        soci::into(r.description), soci::into(r.document), soci::into(r.openapi),
        soci::into(r.created_time), soci::use(api_id), soci::use(id);
    if (sql.got_data()) out = std::move(r);
  });
  return out;
}

RevisionRemoveResult ApiRevisionsRepository::remove(const std::string& api_id,
                                                    const std::string& id) {
  RevisionRemoveResult result = RevisionRemoveResult::removed;
  db_.in_transaction([&](soci::session& sql) {
    std::int64_t exists = 0, deployed = 0;
    sql << "SELECT COUNT(*) FROM api_revisions WHERE api_id = :api AND id = :id",
        soci::into(exists), soci::use(api_id), soci::use(id);
    if (exists == 0) {
      result = RevisionRemoveResult::not_found;
      return;
    }
    sql << "SELECT COUNT(*) FROM api_deployments WHERE revision_id = :id", soci::into(deployed),
        soci::use(id);
    if (deployed > 0) {
      result = RevisionRemoveResult::deployed;
      return;
    }
    sql << "DELETE FROM api_revisions WHERE id = :id", soci::use(id);
  });
  return result;
}

std::vector<ApiDeploymentRecord> ApiRevisionsRepository::deployments(const std::string& api_id) {
  std::vector<ApiDeploymentRecord> out;
  db_.with_session([&](soci::session& sql) {
    ApiDeploymentRecord d;
    std::int64_t display = 0;
    soci::statement st = one_time_statement(
        sql,
        "SELECT api_id, revision_id, environment, vhost, display_on_devportal, "
        "deployed_time FROM api_deployments WHERE api_id = :id ORDER BY "
        "environment",
        soci::into(d.api_id), soci::into(d.revision_id), soci::into(d.environment),
        soci::into(d.vhost), soci::into(display), soci::into(d.deployed_time), soci::use(api_id));
    st.execute();
    while (st.fetch()) {
      d.display_on_devportal = display != 0;
      out.push_back(d);
    }
  });
  return out;
}

void ApiRevisionsRepository::deploy(const std::vector<ApiDeploymentRecord>& deployments) {
  db_.in_transaction([&](soci::session& sql) {
    for (const auto& d : deployments) {
      std::int64_t display = d.display_on_devportal ? 1 : 0;
      sql << "DELETE FROM api_deployments WHERE api_id = :api AND environment = :env",
          soci::use(d.api_id), soci::use(d.environment);
      sql << "INSERT INTO api_deployments (api_id, revision_id, environment, vhost, "
             "display_on_devportal, deployed_time) VALUES (:api, :rev, :env, :vhost, :display, "
             ":time)",
          soci::use(d.api_id), soci::use(d.revision_id), soci::use(d.environment),
          soci::use(d.vhost), soci::use(display), soci::use(d.deployed_time);
    }
  });
}

std::vector<std::string> ApiRevisionsRepository::undeploy(
    const std::string& api_id, const std::string& revision_id,
    const std::vector<std::string>& environments) {
  std::vector<std::string> removed;
  db_.in_transaction([&](soci::session& sql) {
    for (const auto& env : environments) {
      soci::statement st =
          one_time_statement(sql,
                             "DELETE FROM api_deployments WHERE api_id = :api AND "
                             "revision_id = :rev AND environment = :env",
                             soci::use(api_id), soci::use(revision_id), soci::use(env));
      st.execute(true);
      if (st.get_affected_rows() > 0) removed.push_back(env);
    }
  });
  return removed;
}

}  // namespace portico::store

#include "store/gateway_data_repository.h"

#include <soci/soci.h>

#include "store/one_time_statement.h"

namespace portico::store {

namespace {

// One statement per table, whatever selects the rows: `condition` compares one column with
// :value ("id > :value" pages, "id = :value" reads one item, "application_id = :value" reads
// an application's rows).
std::vector<GatewaySubscription> select_subscriptions(Database& db, const std::string& condition,
                                                      const std::string& value, int limit) {
  std::vector<GatewaySubscription> out;
  if (limit <= 0) return out;
  db.with_session([&](soci::session& sql) {
    GatewaySubscription r;
    soci::statement st = one_time_statement(
        sql,
        "SELECT id, application_id, api_id, throttling_policy, status, "
        "created_time, updated_time FROM subscriptions WHERE " +
            condition + " ORDER BY id LIMIT :limit",
        soci::into(r.id), soci::into(r.application_id), soci::into(r.api_id),
        soci::into(r.throttling_policy), soci::into(r.status), soci::into(r.created_time),
        soci::into(r.updated_time), soci::use(value), soci::use(limit));
    st.execute();
    while (st.fetch()) out.push_back(r);
  });
  return out;
}

std::vector<GatewayApplication> select_applications(Database& db, const std::string& condition,
                                                    const std::string& value, int limit) {
  std::vector<GatewayApplication> out;
  if (limit <= 0) return out;
  db.with_session([&](soci::session& sql) {
    GatewayApplication r;
    soci::statement st = one_time_statement(
        sql,
        "SELECT id, name, owner, throttling_policy, token_type, status, "
        "updated_time FROM applications WHERE " +
            condition + " ORDER BY id LIMIT :limit",
        soci::into(r.id), soci::into(r.name), soci::into(r.owner), soci::into(r.throttling_policy),
        soci::into(r.token_type), soci::into(r.status), soci::into(r.updated_time),
        soci::use(value), soci::use(limit));
    st.execute();
    while (st.fetch()) out.push_back(r);
  });
  return out;
}

std::vector<GatewayKeyMapping> select_key_mappings(Database& db, const std::string& condition,
                                                   const std::string& value, int limit) {
  std::vector<GatewayKeyMapping> out;
  if (limit <= 0) return out;
  db.with_session([&](soci::session& sql) {
    GatewayKeyMapping r;
    soci::statement st =
        one_time_statement(sql,
                           "SELECT id, application_id, key_type, client_id "
                           "FROM application_key_mappings WHERE " +
                               condition + " ORDER BY id LIMIT :limit",
                           soci::into(r.id), soci::into(r.application_id), soci::into(r.key_type),
                           soci::into(r.client_id), soci::use(value), soci::use(limit));
    st.execute();
    while (st.fetch()) out.push_back(r);
  });
  return out;
}

template <class Row>
std::optional<Row> first(std::vector<Row> rows) {
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

// An application's key mappings and subscriptions are few (one per key type, one per API it
// uses); this bounds what one read returns all the same.
constexpr int kMaxRowsPerApplication = 100000;

// The deployments to `environment` whose API matches `condition` on d.api_id, each with the
// revision's document and the API's lifecycle state now.
std::vector<GatewayDeployment> select_deployments(Database& db, const std::string& environment,
                                                  const std::string& condition,
                                                  const std::string& value, int limit) {
  std::vector<GatewayDeployment> out;
  if (limit <= 0) return out;
  db.with_session([&](soci::session& sql) {
    GatewayDeployment r;
    long long display = 0;
    soci::statement st = one_time_statement(
        sql,
        "SELECT d.api_id, d.revision_id, d.environment, d.vhost, "
        "d.display_on_devportal, d.deployed_time, r.document, r.openapi, "
        "a.lifecycle_status "
        "FROM api_deployments d JOIN api_revisions r ON r.id = d.revision_id "
        "JOIN apis a ON a.id = d.api_id "
        "WHERE d.environment = :env AND " +
            condition + " ORDER BY d.api_id LIMIT :limit",
        soci::into(r.api_id), soci::into(r.revision_id), soci::into(r.environment),
        soci::into(r.vhost), soci::into(display), soci::into(r.deployed_time),
        soci::into(r.document), soci::into(r.openapi), soci::into(r.lifecycle_status),
        soci::use(environment), soci::use(value), soci::use(limit));
    st.execute();
    while (st.fetch()) {
      r.display_on_devportal = display != 0;
      out.push_back(r);
    }
  });
  return out;
}

}  // namespace

std::vector<GatewaySubscription> GatewayDataRepository::subscriptions_after(
    const std::string& after, int limit) {
  return select_subscriptions(db_, "id > :value", after, limit);
}

std::optional<GatewaySubscription> GatewayDataRepository::subscription(const std::string& id) {
  return first(select_subscriptions(db_, "id = :value", id, 1));
}

std::vector<GatewaySubscription> GatewayDataRepository::subscriptions_of(
    const std::string& application_id) {
  return select_subscriptions(db_, "application_id = :value", application_id,
                              kMaxRowsPerApplication);
}

std::optional<GatewayApplication> GatewayDataRepository::application(const std::string& id) {
  return first(select_applications(db_, "id = :value", id, 1));
}

std::vector<GatewayKeyMapping> GatewayDataRepository::key_mappings_of(
    const std::string& application_id) {
  return select_key_mappings(db_, "application_id = :value", application_id,
                             kMaxRowsPerApplication);
}

std::optional<GatewayKeyMapping> GatewayDataRepository::key_mapping_by_client(
    const std::string& client_id) {
  return first(select_key_mappings(db_, "client_id = :value", client_id, 1));
}

std::vector<GatewayApplication> GatewayDataRepository::applications_after(const std::string& after,
                                                                          int limit) {
  return select_applications(db_, "id > :value", after, limit);
}

std::vector<GatewayKeyMapping> GatewayDataRepository::key_mappings_after(const std::string& after,
                                                                         int limit) {
  return select_key_mappings(db_, "id > :value", after, limit);
}

std::vector<GatewayDeployment> GatewayDataRepository::deployments_after(
    const std::string& environment, const std::string& after, int limit) {
  return select_deployments(db_, environment, "d.api_id > :value", after, limit);
}

std::optional<GatewayDeployment> GatewayDataRepository::deployment(const std::string& environment,
                                                                   const std::string& api_id) {
  return first(select_deployments(db_, environment, "d.api_id = :value", api_id, 1));
}

}  // namespace portico::store

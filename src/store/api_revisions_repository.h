#pragma once
// Revisions (immutable snapshots of an API's document and definition) and their deployments
// to gateway environments (one revision per API and environment).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct ApiRevisionRecord {
  std::string id;
  std::string api_id;
  std::int64_t revision_number = 0;  // 1, 2, ... per API, never reused
  std::string description;
  std::string document;
  std::string openapi;
  std::int64_t created_time = 0;
};

struct ApiDeploymentRecord {
  std::string api_id;
  std::string revision_id;
  std::string environment;
  std::string vhost;
  bool display_on_devportal = true;
  std::int64_t deployed_time = 0;
};

enum class RevisionCreateResult { created, api_not_found, limit_reached };
enum class RevisionRemoveResult { removed, not_found, deployed };

class ApiRevisionsRepository {
 public:
  explicit ApiRevisionsRepository(Database& db) : db_(db) {}

  // Snapshots the API's current document and definition as the next revision, unless it
  // already has `max_revisions`. Fills id-independent fields of `revision` (number,
  // document, openapi).
  RevisionCreateResult create(ApiRevisionRecord& revision, std::int64_t max_revisions);
  std::vector<ApiRevisionRecord> list(const std::string& api_id);  // without document/openapi
  std::optional<ApiRevisionRecord> find(const std::string& api_id, const std::string& id);
  // Refused while the revision is deployed anywhere.
  RevisionRemoveResult remove(const std::string& api_id, const std::string& id);

  std::vector<ApiDeploymentRecord> deployments(const std::string& api_id);
  // Deploys to each environment (replacing what was deployed there), all or none.
  void deploy(const std::vector<ApiDeploymentRecord>& deployments);
  // Removes the revision's deployment from each named environment; returns those removed.
  std::vector<std::string> undeploy(const std::string& api_id, const std::string& revision_id,
                                    const std::vector<std::string>& environments);

 private:
  Database& db_;
};

}  // namespace portico::store

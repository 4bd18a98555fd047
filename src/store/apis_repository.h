#pragma once
// The publisher's APIs: the apis row (searchable columns + the API's publisher REST JSON in
// `document` + its OpenAPI definition), tags, offered subscription tiers, lifecycle history
// and thumbnail; and the publisher's API-level view of subscriptions (owned by the developer
// portal's tables). Every multi-row write is one transaction.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct ApiRecord {
  std::string id;
  std::string name;
  std::string version;
  std::string context;
  std::string provider;
  std::string lifecycle_status;  // CREATED, PUBLISHED, ...
  std::string visibility;        // PUBLIC, RESTRICTED, PRIVATE
  bool is_default_version = false;
  std::string description;
  std::string document;  // JSON: the API as GET /apis/{apiId} returns it
  std::string openapi;   // JSON text of the definition; empty when none was imported
  std::vector<std::string> tags;
  std::vector<std::string> policies;  // subscription tiers offered
  std::int64_t created_time = 0;      // unix seconds
  std::int64_t updated_time = 0;
};

struct ApiQuery {
  std::string name;      // substring, case-insensitive
  std::string status;    // exact lifecycle status
  std::string tag;       // exact tag, case-insensitive
  std::string provider;  // exact
  std::string text;      // substring of name, description or context, case-insensitive
  std::string version;   // exact
  std::string context;   // substring
  std::string sort_by = "createdTime";  // name, version, context, provider, status, createdTime
  bool descending = false;
  std::int64_t limit = 25;
  std::int64_t offset = 0;
};

struct ApiPage {
  std::int64_t total = 0;
  // Without openapi, tags and policies (the document carries them): a page costs two queries.
  std::vector<ApiRecord> items;
};

struct LifecycleEvent {
  std::string id;
  std::string api_id;
  std::string previous_state;
  std::string post_state;
  std::string username;
  std::int64_t updated_time = 0;
};

// A lifecycle change of one API, applied with its document and history row.
struct LifecycleChange {
  std::string api_id;
  std::string expected_state;  // refused (false) when the stored state differs (a race)
  std::string new_state;
  std::string document;
  LifecycleEvent event;
  std::string expected_document;  // refused too when not empty and the stored one differs
};

struct ApiSubscription {
  std::string id;
  std::string api_id;
  std::string application_id;
  std::string application_name;
  std::string application_owner;
  std::string application_document;  // the application's devportal JSON
  std::string throttling_policy;
  std::string status;
  std::int64_t created_time = 0;
};

enum class RemoveResult { removed, not_found, has_subscriptions };

class ApisRepository {
 public:
  explicit ApisRepository(Database& db) : db_(db) {}

  // Throws ConflictError when name+version or context+version is taken.
  void create(const ApiRecord& api);
  // Replaces every column but id, created_time and the thumbnail, and the tags and tiers;
  // false when there is no such API, or when `expected_document` is given and the stored
  // document is no longer that one (another write came between the caller's read and this
  // one: the caller's read-modify-write would lose it).
  bool update(const ApiRecord& api, const std::string& expected_document = "");
  std::optional<ApiRecord> find(const std::string& id);
  ApiPage search(const ApiQuery& query);
  // Refused while subscriptions exist; removes the API's dependent rows with it.
  RemoveResult remove(const std::string& id);
  // Ids and statuses of every version of an API name.
  std::vector<std::pair<std::string, std::string>> versions_of(const std::string& name);

  // Applies each change (all or none); false when an API is gone or not in its expected state.
  bool change_lifecycle(const std::vector<LifecycleChange>& changes);
  std::vector<LifecycleEvent> lifecycle_history(const std::string& api_id);

  // Stores the image with the API's document (which says hasThumbnail).
  bool set_thumbnail(const std::string& api_id, const std::string& type,
                     const std::string& base64_data, const std::string& document,
                     const std::string& expected_document = "");
  // {type, base64 data}; nullopt when the API does not exist. Empty type: no thumbnail.
  std::optional<std::pair<std::string, std::string>> thumbnail(const std::string& api_id);

  // (api_id, document) of every API, for the in-memory scope index built at start.
  std::vector<std::pair<std::string, std::string>> all_documents();

  // The API-level subscription view (empty api_id: every API's).
  std::int64_t count_subscriptions(const std::string& api_id);
  // `total` (count_subscriptions, when the caller has it) lets a page past the middle be read
  // from the end: the walk to the page is then at most half the list.
  std::vector<ApiSubscription> subscriptions(const std::string& api_id, std::int64_t limit,
                                             std::int64_t offset, std::int64_t total = -1);
  std::optional<ApiSubscription> find_subscription(const std::string& id);
  bool set_subscription_status(const std::string& id, const std::string& status,
                               std::int64_t updated_time);

 private:
  Database& db_;
};

}  // namespace portico::store

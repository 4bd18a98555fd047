#pragma once
// The developer portal's read-only view of the publisher's tables: APIs, their tags, offered
// subscription tiers, deployments, definitions, thumbnails and documents. It never writes:
// the publisher owns these rows.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct CatalogApi {
  std::string id;
  std::string name;
  std::string version;
  std::string context;
  std::string provider;
  std::string lifecycle_status;
  std::string visibility;
  std::string description;
  std::string document;  // the publisher v4 API JSON
  bool has_thumbnail = false;
  std::int64_t created_time = 0;
  std::int64_t updated_time = 0;
};

// Conditions of an API search; empty members match everything. Text matches are
// case-insensitive substrings, `tag` is exact.
struct CatalogSearch {
  std::vector<std::string> statuses;      // lifecycle states to include (required, non-empty)
  std::vector<std::string> visibilities;  // PUBLIC, PRIVATE, RESTRICTED; empty: any
  std::string name;
  std::string provider;
  std::string version;
  std::string context;
  std::string description;
  std::string tag;
  std::string text;  // name or description
};

struct CatalogDeployment {
  std::string environment;
  std::string vhost;
  bool display_on_devportal = true;
};

struct CatalogDocument {
  std::string id;
  std::string api_id;
  std::string name;
  std::string document;  // the publisher's Document JSON
  std::string content;
  std::int64_t created_time = 0;
};

class CatalogRepository {
 public:
  explicit CatalogRepository(Database& db) : db_(db) {}

  std::optional<CatalogApi> find(const std::string& id);
  // The APIs of these ids that exist, in id order (a list page's, in one query).
  std::vector<CatalogApi> find_all(const std::vector<std::string>& ids);
  // Every API matching `search`, by name then version. Role-based visibility (RESTRICTED's
  // visibleRoles) is the caller's to apply.
  std::vector<CatalogApi> search(const CatalogSearch& search);
  // One page of the same order, and the number of matches: for searches whose visibility
  // the database can decide alone.
  std::vector<CatalogApi> search_page(const CatalogSearch& search, std::int64_t limit,
                                      std::int64_t offset);
  std::int64_t count(const CatalogSearch& search);
  std::vector<std::string> tags(const std::string& api_id);
  // (api_id, tag) for every tagged API.
  std::vector<std::pair<std::string, std::string>> all_tags();
  std::vector<std::string> subscription_policies(const std::string& api_id);
  // The tiers of each of these APIs (a list page's, in one query); an API without any is absent.
  std::map<std::string, std::vector<std::string>> subscription_policies_of(
      const std::vector<std::string>& api_ids);
  // The tags of each of `api_ids` (a page of the developer portal's list), sorted.
  std::map<std::string, std::vector<std::string>> tags_of(const std::vector<std::string>& api_ids);
  std::vector<CatalogDeployment> deployments(const std::string& api_id);
  std::optional<std::string> openapi(const std::string& api_id);
  // (media type, stored content); nullopt when the API has no thumbnail.
  std::optional<std::pair<std::string, std::string>> thumbnail(const std::string& api_id);
  std::vector<CatalogDocument> documents(const std::string& api_id);
  std::optional<CatalogDocument> document(const std::string& api_id,
                                          const std::string& document_id);

 private:
  Database& db_;
};

}  // namespace portico::store

#pragma once
// An API's documents: metadata as the publisher's Document JSON, and the content (inline
// text or markdown, or a file as base64) beside it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct ApiDocumentRecord {
  std::string id;
  std::string api_id;
  std::string name;
  std::string document;  // JSON: the Document resource
  std::string content;
  std::int64_t created_time = 0;
};

class ApiDocumentsRepository {
 public:
  explicit ApiDocumentsRepository(Database& db) : db_(db) {}
  // Throws ConflictError when the API has a document of that name.
  void create(const ApiDocumentRecord& doc);
  std::vector<ApiDocumentRecord> list(const std::string& api_id, std::int64_t limit,
                                      std::int64_t offset);  // without content
  std::int64_t count(const std::string& api_id);
  std::optional<ApiDocumentRecord> find(const std::string& api_id, const std::string& id);
  // Name and document; false when there is no such document.
  bool update(const ApiDocumentRecord& doc);
  bool set_content(const std::string& api_id, const std::string& id, const std::string& document,
                   const std::string& content);
  bool remove(const std::string& api_id, const std::string& id);

 private:
  Database& db_;
};

}  // namespace portico::store

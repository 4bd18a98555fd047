#pragma once
// Developers' ratings (1..5, one per user and API) and comments on APIs.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct RatingRecord {
  std::string api_id;
  std::string username;
  int rating = 0;
};

struct CommentRecord {
  std::string id;
  std::string api_id;
  std::string username;
  std::string content;
  std::int64_t created_time = 0;
};

class ApiFeedbackRepository {
 public:
  explicit ApiFeedbackRepository(Database& db) : db_(db) {}

  // Inserts or replaces the user's rating of the API.
  void put_rating(const RatingRecord& rating);
  std::optional<RatingRecord> find_rating(const std::string& api_id, const std::string& username);
  bool remove_rating(const std::string& api_id, const std::string& username);
  std::vector<RatingRecord> ratings(const std::string& api_id, std::int64_t limit,
                                    std::int64_t offset);
  // (count, average); average 0 when there is none.
  std::pair<std::int64_t, double> rating_summary(const std::string& api_id);
  // rating_summary of each of these APIs (a list page's, in one query); unrated ones are absent.
  std::map<std::string, std::pair<std::int64_t, double>> rating_summaries(
      const std::vector<std::string>& api_ids);

  void add_comment(const CommentRecord& comment);
  std::optional<CommentRecord> find_comment(const std::string& api_id, const std::string& id);
  std::vector<CommentRecord> comments(const std::string& api_id, std::int64_t limit,
                                      std::int64_t offset);
  std::int64_t count_comments(const std::string& api_id);
  bool remove_comment(const std::string& id);

 private:
  Database& db_;
};

}  // namespace portico::store

#include "analytics/batch.h"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <algorithm>

#include "common/api_error.h"
#include "common/json_body.h"

namespace portico::analytics {

namespace json = boost::json;

namespace {

// Batch ids name spill files on the gateway: letters, digits, '-', '_' and '.', never a path.
bool valid_batch_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxBatchIdLength && id.front() != '.' &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '-' || c == '_' || c == '.';
         });
}

}  // namespace

std::string batch_json(std::string_view batch_id, std::string_view node_id,
                       const RollupMap& rollups) {
  std::string body = "{\"batchId\":" + json::serialize(json::string(batch_id)) +
                     ",\"nodeId\":" + json::serialize(json::string(node_id)) + ",\"rollups\":[";
  bool first = true;
  for (const auto& [key, counters] : rollups) {
    if (!first) body += ',';
    first = false;
    body += rollup_line(key, counters);
  }
  body += "]}";
  return body;
}

Batch parse_batch(std::string_view body) {
  if (body.size() > kMaxBatchBytes)
    throw ApiError(413, 413, "Payload Too Large",
                   "An analytics batch is at most " + std::to_string(kMaxBatchBytes) + " bytes");
  json::object o = json_body::parse_object(body);
  Batch batch;
  batch.batch_id = json_body::required_string(o, "batchId", kMaxBatchIdLength);
  if (!valid_batch_id(batch.batch_id))
    throw ApiError::bad_request("'batchId' must be 1 to " + std::to_string(kMaxBatchIdLength) +
                                " letters, digits, '-', '_' or '.'");
  batch.node_id = json_body::required_string(o, "nodeId", kMaxKeyField);
  if (batch.node_id.empty() || clean_text(batch.node_id, kMaxKeyField) != batch.node_id)
    throw ApiError::bad_request("'nodeId' must be 1 to " + std::to_string(kMaxKeyField) +
                                " bytes without NUL");
  const json::array* rollups = json_body::optional_array(o, "rollups");
  if (rollups == nullptr || rollups->empty() || rollups->size() > kMaxBatchRollups)
    throw ApiError::bad_request("'rollups' must be an array of 1 to " +
                                std::to_string(kMaxBatchRollups) + " rollups");
  for (std::size_t i = 0; i < rollups->size(); ++i) {
    const json::value& item = (*rollups)[i];
    try {
      if (!item.is_object()) throw ApiError::bad_request("a rollup must be an object");
      auto [key, counters] = read_rollup(item.as_object());
      key.node_id = batch.node_id;
      batch.rollups[std::move(key)].add(counters);
    } catch (const ApiError& e) {
      throw ApiError::bad_request("rollups[" + std::to_string(i) + "]: " + e.description);
    }
  }
  return batch;
}

}  // namespace portico::analytics

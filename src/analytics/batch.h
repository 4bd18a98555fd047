#pragma once
// The body of POST /internal/data/v1/analytics/batches: a gateway's rollups, sent to the
// control plane under a batch id that a re-send keeps. Internal to src/analytics.
//
//   {"batchId": "1700000040000-000001-0000abcd", "nodeId": "gw-1",
//    "rollups": [{"minute": 1700000040, "apiId": ..., "histogram": [...]}, ...]}
//
// A rollup is the spill files' line (rollup_line); its nodeId, if any, is the batch's.
#include <string>
#include <string_view>

#include "analytics/rollup.h"

namespace portico::analytics {

// Bounds of a batch. A sender cuts its rollups into batches of at most kMaxBatchRollups; a
// rollup line is under 1.5 KB even with every key field at its bound, so a full batch stays
// well within kMaxBatchBytes.
inline constexpr std::size_t kMaxBatchRollups = 1000;
inline constexpr std::size_t kMaxBatchBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxBatchIdLength = 64;

struct Batch {
  std::string batch_id;
  std::string node_id;
  RollupMap rollups;  // keyed with node_id
};

std::string batch_json(std::string_view batch_id, std::string_view node_id,
                       const RollupMap& rollups);

// A batch from outside, checked whole. Throws ApiError 400 (413 when the body is larger than
// kMaxBatchBytes) naming what is wrong; a batch either parses entirely or not at all.
Batch parse_batch(std::string_view body);

}  // namespace portico::analytics

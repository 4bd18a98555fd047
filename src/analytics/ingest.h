#pragma once
// The control plane's side of gateway analytics: POST /internal/data/v1/analytics/batches.
// Internal to src/analytics (registered by register_routes).
#include <functional>

#include "http/message.h"

namespace portico::keymanager {
class KeyManager;
}
namespace portico::store {
class Database;
}

namespace portico::analytics {

// A handler whose storage failures answer 503 with Retry-After, as the other REST APIs do.
http::Handler guarded(std::function<http::Response(http::Request&)> handler);

// Takes a gateway's batch (batch.h) with the internal-API credential of [internal_api] and
// adds its rollups once per (nodeId, batchId): 200 {"batchId", "duplicate"}. A bad batch is
// 400 (413 when too large) and adds nothing; no credential or a wrong one is 401.
void register_ingest_route(http::Router& router, keymanager::KeyManager& km, store::Database& db);

}  // namespace portico::analytics

#include "analytics/ingest.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "analytics/analytics_repository.h"
#include "analytics/batch.h"
#include "common/api_error.h"
#include "common/clock.h"
#include "keymanager/keymanager.h"
#include "store/database.h"

namespace portico::analytics {

namespace json = boost::json;

void register_ingest_route(http::Router& router, keymanager::KeyManager& km, store::Database& db) {
  router.add(
      "POST", "/internal/data/v1/analytics/batches", guarded([&km, &db](http::Request& request) {
        // The internal data API's check and answer (src/admin/internal_api.cpp): the shared
        // credential or a gateway's own live one.
        if (!km.authenticate_gateway(request)) {
          ApiError e(401, 900901, "Invalid Credentials",
                     "The internal data API needs the gateway credential of [internal_api] or a "
                     "live gateway credential");
          e.headers["WWW-Authenticate"] = "Basic realm=\"portico-internal\"";
          throw e;
        }
        Batch batch = parse_batch(request.body);
        AnalyticsRepository repository(db);
        const bool added =
            repository.add_received_batch(batch.node_id, batch.batch_id, batch.rollups, unix_now());
        json::object body{{"batchId", batch.batch_id}, {"duplicate", !added}};
        return http::Response::json(200, json::serialize(body));
      }));
}

}  // namespace portico::analytics

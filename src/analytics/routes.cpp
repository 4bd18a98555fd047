// The analytics query API, /api/am/analytics/v1: the portals' dashboards read the rollups.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <functional>

#include "analytics/analytics.h"
#include "analytics/analytics_repository.h"
#include "analytics/event_json.h"
#include "analytics/ingest.h"
#include "analytics/rollup.h"
#include "common/api_error.h"
#include "common/clock.h"
#include "common/log.h"
#include "http/message.h"
#include "keymanager/keymanager.h"
#include "store/database.h"

namespace portico::analytics {

namespace json = boost::json;

namespace {

constexpr std::string_view kBase = "/api/am/analytics/v1";
constexpr std::int64_t kDefaultRangeMs = 60LL * 60 * 1000;
constexpr std::int64_t kMaxRangeMs = 31LL * 24 * 60 * 60 * 1000;
constexpr std::int64_t kDefaultLimit = 1000;
constexpr std::int64_t kMaxLimit = 10000;
constexpr std::size_t kMaxIdLength = 256;

enum class Measure { requests, errors, throttled, latency };

// What the caller may see: everything, or the rows of the applications they own.
struct Caller {
  std::optional<std::string> owner;
};

Caller authorize(keymanager::KeyManager& km, const http::Request& request) {
  keymanager::Principal principal = km.authenticate(request);
  if (principal.has_scope("apim:api_view") || principal.has_scope("apim:admin")) return {};
  // A subscriber's dashboard: the traffic of their own applications only.
  if (principal.has_scope("apim:subscribe")) return {principal.username};
  throw ApiError(403, 900910, "Forbidden",
                 "Analytics requires the scope apim:api_view, apim:admin or apim:subscribe");
}

std::int64_t time_param(const http::Request& request, const std::string& name,
                        std::int64_t fallback) {
  auto value = request.query_param(name);
  if (!value) return fallback;
  auto ms = parse_time_ms(*value);
  if (!ms)
    throw ApiError::bad_request("Invalid value for '" + name + "': '" + value->substr(0, 64) +
                                "' is neither ISO 8601 (2026-01-31T10:00:00Z) nor unix "
                                "milliseconds");
  return *ms;
}

GroupBy group_by_param(const http::Request& request) {
  auto value = request.query_param("groupBy");
  if (!value || *value == "api") return GroupBy::api;
  if (*value == "application") return GroupBy::application;
  if (*value == "resource") return GroupBy::resource;
  if (*value == "status") return GroupBy::status;
  if (*value == "minute") return GroupBy::minute;
  if (*value == "node") return GroupBy::node;
  throw ApiError::bad_request(
      "Invalid value for 'groupBy': expected one of api, application, "
      "resource, status, minute, node");
}

std::string_view group_by_name(GroupBy g) {
  switch (g) {
    case GroupBy::api:
      return "api";
    case GroupBy::application:
      return "application";
    case GroupBy::resource:
      return "resource";
    case GroupBy::status:
      return "status";
    case GroupBy::minute:
      return "minute";
    case GroupBy::node:
      return "node";
  }
  return "api";
}

std::optional<std::string> id_param(const http::Request& request, const std::string& name) {
  auto value = request.query_param(name);
  if (!value) return std::nullopt;
  if (value->empty() || value->size() > kMaxIdLength)
    throw ApiError::bad_request("Invalid value for '" + name + "': 1 to " +
                                std::to_string(kMaxIdLength) + " characters");
  return value;
}

std::int64_t limit_param(const http::Request& request) {
  auto value = request.query_param("limit");
  if (!value) return kDefaultLimit;
  std::int64_t limit = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), limit);
  if (ec != std::errc() || end != value->data() + value->size() || limit < 1 || limit > kMaxLimit)
    throw ApiError::bad_request("Invalid value for 'limit': an integer from 1 to " +
                                std::to_string(kMaxLimit));
  return limit;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);
}

// The query, with the range in whole minutes: every minute that overlaps [from, to).
RollupQuery read_query(const http::Request& request, const Caller& caller, std::int64_t& from_ms,
                       std::int64_t& to_ms) {
  // By default up to the end of the current second: a call recorded within it is in range,
  // even at the first second of a minute (whose rollup minute is then `to`'s own).
  const std::int64_t now_ms = (unix_now() + 1) * 1000;
  to_ms = time_param(request, "to", now_ms);
  from_ms = time_param(request, "from", to_ms - kDefaultRangeMs);
  if (from_ms >= to_ms) throw ApiError::bad_request("'from' must be before 'to'");
  if (to_ms - from_ms > kMaxRangeMs)
    throw ApiError::bad_request("The range from 'from' to 'to' is longer than 31 days");
  RollupQuery q;
  q.from_minute = floor_div(from_ms, 60000) * 60;
  q.to_minute = -floor_div(-to_ms, 60000) * 60;
  q.group_by = group_by_param(request);
  q.api_id = id_param(request, "apiId");
  q.application_id = id_param(request, "applicationId");
  q.node_id = id_param(request, "nodeId");
  q.application_owner = caller.owner;
  return q;
}

double round2(double v) {
  return static_cast<double>(static_cast<std::int64_t>(v * 100.0 + 0.5)) / 100.0;
}

json::object group_json(GroupBy g, const RollupKey& key) {
  json::object o;
  switch (g) {
    case GroupBy::api:
      o = {{"apiId", key.api_id}, {"apiName", key.api_name}, {"apiVersion", key.api_version}};
      break;
    case GroupBy::application:
      o = {{"applicationId", key.application_id},
           {"applicationName", key.application_name},
           {"applicationOwner", key.application_owner}};
      break;
    case GroupBy::resource:
      o = {{"apiId", key.api_id},
           {"apiName", key.api_name},
           {"apiVersion", key.api_version},
           {"apiMethod", key.api_method},
           {"apiResourceTemplate", key.resource_template}};
      break;
    case GroupBy::status:
      o = {{"statusClass", key.status_class}};
      break;
    case GroupBy::minute:
      o = {{"minute", iso_time(key.minute)}};
      break;
    case GroupBy::node:
      o = {{"nodeId", key.node_id}};
      break;
  }
  return o;
}

json::value quantile(const RollupCounters& c, double q) {
  auto v = latency_quantile(c.histogram, q);
  if (!v) return nullptr;
  return round2(*v);
}

void add_measure(json::object& o, Measure m, const RollupCounters& c) {
  o["requests"] = c.requests;
  switch (m) {
    case Measure::requests:
      o["errors"] = c.errors;
      o["requestBytes"] = c.request_bytes;
      o["responseBytes"] = c.response_bytes;
      break;
    case Measure::errors:
      o["errors"] = c.errors;
      o["errorRate"] =
          c.requests > 0 ? static_cast<double>(c.errors) / static_cast<double>(c.requests) : 0.0;
      break;
    case Measure::throttled:
      o["throttled"] = c.throttled;
      break;
    case Measure::latency:
      o["averageMs"] =
          c.requests > 0
              ? round2(static_cast<double>(c.latency_sum_ms) / static_cast<double>(c.requests))
              : 0.0;
      o["p50Ms"] = quantile(c, 0.50);
      o["p90Ms"] = quantile(c, 0.90);
      o["p99Ms"] = quantile(c, 0.99);
      break;
  }
}

// The figure a list is sorted by, largest first (a minute series is sorted by time instead).
double sort_value(Measure m, const RollupCounters& c) {
  switch (m) {
    case Measure::requests:
      return static_cast<double>(c.requests);
    case Measure::errors:
      return static_cast<double>(c.errors);
    case Measure::throttled:
      return static_cast<double>(c.throttled);
    case Measure::latency:
      return latency_quantile(c.histogram, 0.99).value_or(0.0);
  }
  return 0;
}

http::Response answer(Measure measure, const http::Request& request, keymanager::KeyManager& km,
                      store::Database& db) {
  Caller caller = authorize(km, request);
  std::int64_t from_ms = 0, to_ms = 0;
  RollupQuery q = read_query(request, caller, from_ms, to_ms);
  const std::int64_t limit = limit_param(request);

  AnalyticsRepository repository(db);
  std::vector<RollupGroup> groups = repository.query(q);
  if (q.group_by == GroupBy::minute) {
    std::sort(groups.begin(), groups.end(),
              [](const RollupGroup& a, const RollupGroup& b) { return a.key < b.key; });
  } else {
    std::sort(groups.begin(), groups.end(), [&](const RollupGroup& a, const RollupGroup& b) {
      double va = sort_value(measure, a.totals), vb = sort_value(measure, b.totals);
      if (va != vb) return va > vb;
      return a.key < b.key;
    });
  }
  if (static_cast<std::int64_t>(groups.size()) > limit) groups.resize(limit);

  json::array list;
  for (const RollupGroup& g : groups) {
    json::object o = group_json(q.group_by, g.key);
    add_measure(o, measure, g.totals);
    list.push_back(std::move(o));
  }
  json::object body{{"from", iso_time_ms(from_ms)},
                    {"to", iso_time_ms(to_ms)},
                    {"groupBy", group_by_name(q.group_by)},
                    {"count", list.size()},
                    {"list", std::move(list)}};
  return http::Response::json(200, json::serialize(body));
}

}  // namespace

http::Handler guarded(std::function<http::Response(http::Request&)> handler) {
  return [handler = std::move(handler)](http::Request& request) {
    try {
      return handler(request);
    } catch (const store::UnavailableError& e) {
      spdlog::error("analytics: database unavailable: {}", e.what());
      ApiError error(503, 503, "Service Unavailable", "The database is unavailable; retry later");
      error.headers["Retry-After"] = "5";
      throw error;
    }
  };
}

void register_routes(http::Router& router, Recorder& recorder, keymanager::KeyManager& km,
                     store::Database& db) {
  const std::string base(kBase);
  const std::pair<const char*, Measure> measures[] = {{"/requests", Measure::requests},
                                                      {"/errors", Measure::errors},
                                                      {"/throttled", Measure::throttled},
                                                      {"/latency", Measure::latency}};
  for (const auto& [path, measure] : measures) {
    router.add("GET", base + path, guarded([measure = measure, &km, &db](http::Request& request) {
                 return answer(measure, request, km, db);
               }));
  }
  // The pipeline's own health, for operators: drops, spill files, sinks.
  router.add("GET", base + "/status", guarded([&recorder, &km](http::Request& request) {
               if (authorize(km, request).owner)
                 throw ApiError(403, 900910, "Forbidden",
                                "The analytics status requires the scope apim:api_view or "
                                "apim:admin");
               const Options& o = recorder.options();
               json::object body{{"droppedEvents", recorder.dropped()},
                                 {"queueCapacity", o.queue_capacity},
                                 {"pendingSpillFiles", recorder.pending_spill_files()},
                                 {"databaseSink", o.database_sink},
                                 {"fileSink", !o.file_sink_path.empty()}};
               return http::Response::json(200, json::serialize(body));
             }));
  register_ingest_route(router, km, db);
}

}  // namespace portico::analytics

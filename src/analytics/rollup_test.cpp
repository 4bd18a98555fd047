#include "analytics/rollup.h"

#include <gtest/gtest.h>

#include <vector>

#include <boost/json/parse.hpp>

#include "analytics/event_json.h"

namespace portico::analytics {
namespace {

namespace json = boost::json;

std::array<std::int64_t, kLatencyBuckets> histogram_of(std::initializer_list<std::int64_t> ms) {
  std::array<std::int64_t, kLatencyBuckets> h{};
  for (std::int64_t v : ms) ++h[latency_bucket(v)];
  return h;
}

// The bounds of the bucket a latency falls in: a quantile is right when it is inside them.
std::pair<double, double> bucket_bounds(std::int64_t latency_ms) {
  std::size_t i = latency_bucket(latency_ms);
  double lower = i == 0 ? 0.0 : static_cast<double>(kLatencyBoundsMs[i - 1]);
  double upper = i < kLatencyBoundsMs.size() ? static_cast<double>(kLatencyBoundsMs[i]) : 1e18;
  return {lower, upper};
}

TEST(AnalyticsRollupTest, StatusClassOfEachCode) {
  EXPECT_EQ(status_class(200), "2xx");
  EXPECT_EQ(status_class(204), "2xx");
  EXPECT_EQ(status_class(302), "3xx");
  EXPECT_EQ(status_class(429), "4xx");
  EXPECT_EQ(status_class(503), "5xx");
  EXPECT_EQ(status_class(101), "1xx");
  EXPECT_EQ(status_class(0), "5xx");
  EXPECT_EQ(status_class(999), "5xx");
}

TEST(AnalyticsRollupTest, LatencyBucketsIncludeTheirUpperBound) {
  EXPECT_EQ(latency_bucket(0), 0u);
  EXPECT_EQ(latency_bucket(1), 0u);
  EXPECT_EQ(latency_bucket(2), 1u);
  EXPECT_EQ(latency_bucket(100), 10u);
  EXPECT_EQ(latency_bucket(101), 11u);
  EXPECT_EQ(latency_bucket(60000), kLatencyBuckets - 2);
  EXPECT_EQ(latency_bucket(60001), kLatencyBuckets - 1);
}

TEST(AnalyticsRollupTest, EventCountsAsErrorThrottledAndInItsMinute) {
  Event e;
  e.api_id = "a1";
  e.proxy_response_code = 429;
  e.error_code = 900802;
  e.response_latency_ms = 7;
  e.request_timestamp_ms = 1'700'000'059'999;  // 22:14:19.999 → the minute 22:14:00
  e.request_bytes = 10;
  e.response_bytes = 20;
  RollupKey key = rollup_key(e);
  EXPECT_EQ(key.minute, 1'700'000'040);
  EXPECT_EQ(key.status_class, "4xx");
  RollupCounters c = rollup_counters(e);
  EXPECT_EQ(c.requests, 1);
  EXPECT_EQ(c.errors, 1);
  EXPECT_EQ(c.throttled, 1);
  EXPECT_EQ(c.latency_sum_ms, 7);
  EXPECT_EQ(c.histogram[latency_bucket(7)], 1);
  EXPECT_EQ(c.request_bytes, 10);

  Event ok;
  ok.proxy_response_code = 200;
  EXPECT_EQ(rollup_counters(ok).errors, 0);
  Event coded;  // an error code counts even when the status looks fine
  coded.proxy_response_code = 200;
  coded.error_code = 101503;
  EXPECT_EQ(rollup_counters(coded).errors, 1);
  EXPECT_EQ(rollup_counters(coded).throttled, 0);
}

// The accumulator skips building keys for runs of events with the same key; it must count
// exactly as one add_event() per event does, whichever key field changes between events.
TEST(AnalyticsRollupTest, AccumulatorCountsAsAddEventDoes) {
  Event base;
  base.api_id = "api-1";
  base.api_name = "PetStore";
  base.api_version = "1.0.0";
  base.api_method = "GET";
  base.api_resource_template = "/items";
  base.application_id = "app-1";
  base.application_name = "shop";
  base.application_owner = "bob";
  base.proxy_response_code = 200;
  base.request_timestamp_ms = 1'700'000'000'000;
  base.response_latency_ms = 3;
  std::vector<Event> events;
  auto vary = [&](auto change) {
    Event e = base;
    change(e);
    events.push_back(e);
    events.push_back(e);  // a run of two
    events.push_back(base);
  };
  vary([](Event& e) { e.api_id = "api-2"; });
  vary([](Event& e) { e.api_name = "Other"; });
  vary([](Event& e) { e.api_version = "2.0.0"; });
  vary([](Event& e) { e.api_method = "POST"; });
  vary([](Event& e) { e.api_resource_template = "/items/{id}"; });
  vary([](Event& e) { e.application_id = "app-2"; });
  vary([](Event& e) { e.application_name = "store"; });
  vary([](Event& e) { e.application_owner = "carol"; });
  vary([](Event& e) { e.proxy_response_code = 503; });
  vary([](Event& e) { e.request_timestamp_ms += 60'000; });
  vary([](Event& e) { e.response_latency_ms = 900; });  // same key, other counters

  RollupMap one_by_one, accumulated;
  RollupAccumulator accumulator(accumulated);
  for (const Event& e : events) {
    add_event(one_by_one, e);
    accumulator.add(e);
  }
  ASSERT_EQ(accumulated.size(), one_by_one.size());
  EXPECT_EQ(one_by_one.size(), 11u);
  for (const auto& [key, counters] : one_by_one) {
    ASSERT_TRUE(accumulated.count(key)) << rollup_line(key, counters);
    EXPECT_EQ(rollup_line(key, accumulated.at(key)), rollup_line(key, counters));
  }
}

TEST(AnalyticsRollupTest, QuantilesFallInTheRightBucket) {
  std::vector<std::int64_t> latencies;
  for (std::int64_t i = 1; i <= 1000; ++i) latencies.push_back(i);
  std::array<std::int64_t, kLatencyBuckets> h{};
  for (std::int64_t v : latencies) ++h[latency_bucket(v)];
  for (double q : {0.5, 0.9, 0.99}) {
    std::int64_t exact = latencies[static_cast<std::size_t>(q * 1000) - 1];
    auto [lower, upper] = bucket_bounds(exact);
    auto estimate = latency_quantile(h, q);
    ASSERT_TRUE(estimate);
    EXPECT_GE(*estimate, lower) << q;
    EXPECT_LE(*estimate, upper) << q;
  }
}

TEST(AnalyticsRollupTest, QuantileOfOneValueAndOfNothing) {
  EXPECT_FALSE(latency_quantile(histogram_of({}), 0.5));
  auto p = latency_quantile(histogram_of({40}), 0.99);
  ASSERT_TRUE(p);
  EXPECT_GT(*p, 30.0);
  EXPECT_LE(*p, 50.0);
  // Beyond the last bound: the last finite bound, not infinity.
  EXPECT_EQ(*latency_quantile(histogram_of({120000}), 0.5), 60000.0);
}

TEST(AnalyticsRollupTest, CleanTextKeepsValidUtf8AndCutsOnCharacters) {
  EXPECT_EQ(clean_text("plain", 100), "plain");
  EXPECT_EQ(clean_text("caf\xC3\xA9", 100), "caf\xC3\xA9");
  EXPECT_EQ(clean_text("caf\xC3\xA9", 4), "caf");  // é would not fit whole
  EXPECT_EQ(clean_text(std::string("a\0b", 3), 100), "a?b");
  EXPECT_EQ(clean_text("bad\xFF\xC3", 100), "bad??");
  EXPECT_EQ(clean_text("\xED\xA0\x80", 100), "???");  // a UTF-16 surrogate is not UTF-8
}

TEST(AnalyticsRollupTest, SpillLineRoundTrips) {
  RollupKey key{1'700'000'040, "id",  "Pets \"API\"", "1.0", "GET", "/pets/{id}",
                "app",         "App", "sam",          "2xx", "gw-1"};
  RollupCounters c;
  c.requests = 3;
  c.errors = 1;
  c.throttled = 1;
  c.latency_sum_ms = 99;
  c.request_bytes = 5;
  c.response_bytes = 6;
  c.histogram[3] = 2;
  c.histogram[kLatencyBuckets - 1] = 1;
  auto parsed = parse_rollup_line(rollup_line(key, c));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->first, key);
  EXPECT_EQ(parsed->second.requests, 3);
  EXPECT_EQ(parsed->second.latency_sum_ms, 99);
  EXPECT_EQ(parsed->second.histogram, c.histogram);
  EXPECT_FALSE(parse_rollup_line("{\"minute\":1}"));
  EXPECT_FALSE(parse_rollup_line("not json"));
}

TEST(AnalyticsEventJsonTest, TimesAsTheReferenceWritesThem) {
  EXPECT_EQ(iso_time_ms(1'642'649'676'451), "2022-01-20T03:34:36.451Z");
  EXPECT_EQ(iso_time_ms(0), "1970-01-01T00:00:00.000Z");
}

TEST(AnalyticsEventJsonTest, ParsesUnixMillisecondsAndIso8601) {
  EXPECT_EQ(parse_time_ms("1642649676451"), 1'642'649'676'451);
  EXPECT_EQ(parse_time_ms("2022-01-20T03:34:36.451Z"), 1'642'649'676'451);
  EXPECT_EQ(parse_time_ms("2022-01-20T03:34:36Z"), 1'642'649'676'000);
  EXPECT_EQ(parse_time_ms("2022-01-20T03:34Z"), 1'642'649'640'000);
  EXPECT_EQ(parse_time_ms("2022-01-20T05:34:36+02:00"), 1'642'649'676'000);
  EXPECT_EQ(parse_time_ms("2022-01-20T05:34:36 02:00"), 1'642'649'676'000);  // '+' as decoded
  EXPECT_EQ(parse_time_ms("2022-01-20T01:34:36-0200"), 1'642'649'676'000);
  EXPECT_EQ(parse_time_ms("2022-01-20"), 1'642'636'800'000);
  EXPECT_FALSE(parse_time_ms(""));
  EXPECT_FALSE(parse_time_ms("yesterday"));
  EXPECT_FALSE(parse_time_ms("2022-01-20T03:34:36"));  // no zone
  EXPECT_FALSE(parse_time_ms("2022-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_time_ms("2022-13-01"));
  EXPECT_FALSE(parse_time_ms("2022-01-20T03:34:36Zjunk"));
  EXPECT_FALSE(parse_time_ms("99999999999999999999999"));
}

TEST(AnalyticsEventJsonTest, LineHasTheReferenceFieldNames) {
  Event e;
  e.api_id = "43d030dc";
  e.api_name = "SampleAPI";
  e.api_version = "1.0.0";
  e.api_context = "/sample/1.0.0";
  e.api_method = "GET";
  e.api_resource_template = "/*";
  e.api_creator = "admin";
  e.application_id = "2d6c54b0";
  e.application_name = "DefaultApplication";
  e.application_owner = "admin";
  e.key_type = "PRODUCTION";
  e.user_name = "admin";
  e.user_ip = "172.16.2.70";
  e.user_agent = "curl/8 \xFF";
  e.correlation_id = "79ed20c3";
  e.proxy_response_code = 202;
  e.target_response_code = 202;
  e.response_latency_ms = 73;
  e.backend_latency_ms = 13;
  e.request_mediation_latency_ms = 54;
  e.response_mediation_latency_ms = 6;
  e.request_timestamp_ms = 1'642'649'676'451;
  json::object o = json::parse(event_json_line(e)).as_object();
  for (const char* field : {"apiId",
                            "apiName",
                            "apiVersion",
                            "apiContext",
                            "apiMethod",
                            "apiResourceTemplate",
                            "apiCreator",
                            "applicationId",
                            "applicationName",
                            "applicationOwner",
                            "keyType",
                            "userName",
                            "userIp",
                            "userAgent",
                            "correlationId",
                            "proxyResponseCode",
                            "targetResponseCode",
                            "responseLatency",
                            "backendLatency",
                            "requestMediationLatency",
                            "responseMediationLatency",
                            "errorType",
                            "errorCode",
                            "requestTimestamp"})
    EXPECT_TRUE(o.contains(field)) << field;
  EXPECT_EQ(o.at("eventType").as_string(), "response");
  EXPECT_EQ(o.at("requestTimestamp").as_string(), "2022-01-20T03:34:36.451Z");
  EXPECT_EQ(o.at("proxyResponseCode").as_int64(), 202);
  EXPECT_EQ(o.at("userAgent").as_string(), "curl/8 ?");
  EXPECT_TRUE(o.at("errorType").is_null());

  Event fault;
  fault.error_type = "THROTTLED";
  fault.error_code = 900803;
  fault.proxy_response_code = 429;
  json::object f = json::parse(event_json_line(fault)).as_object();
  EXPECT_EQ(f.at("eventType").as_string(), "fault");
  EXPECT_EQ(f.at("errorType").as_string(), "THROTTLED");
  EXPECT_EQ(f.at("errorCode").as_int64(), 900803);
  EXPECT_EQ(f.at("targetResponseCode").as_int64(), -1);  // the backend was not reached
}

}  // namespace
}  // namespace portico::analytics

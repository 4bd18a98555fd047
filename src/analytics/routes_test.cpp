// The query API in process: a SQLite database, the key manager with its users, the router.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>

#include "analytics/analytics.h"
#include "analytics/batch.h"
#include "analytics/test_support.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "events/event_bus.h"
#include "http/message.h"
#include "keymanager/keymanager.h"
#include "store/database.h"

namespace portico::analytics {
namespace {

namespace json = boost::json;
using testing::EventSpec;
using testing::make_event;

constexpr const char* kBase = "/api/am/analytics/v1";

class AnalyticsRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portico-analytics-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    config_.data_dir = dir_.string();
    config_.internal_api.password = "internal-secret";
    db_ = store::Database::open((dir_ / "portico.db").string(), 2);
    db_->migrate();
    key_manager_ = std::make_unique<keymanager::KeyManager>(config_, *db_, bus_);
    key_manager_->initialize();
    key_manager_->users().create("sam", "sam-password", {"subscriber"});
    key_manager_->users().create("kim", "kim-password", {"subscriber"});
    key_manager_->users().create("carol", "carol-password", {"creator"});
    Options options;
    options.data_dir = dir_.string();
    recorder_ = std::make_unique<Recorder>(options, db_.get());
    register_routes(router_, *recorder_, *key_manager_, *db_);
  }

  void TearDown() override {
    recorder_.reset();
    key_manager_.reset();
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  http::Response get(const std::string& path, std::multimap<std::string, std::string> query = {},
                     const std::string& credentials = "admin:admin") {
    http::Request request;
    request.method = "GET";
    request.path = std::string(kBase) + path;
    request.target = request.path;
    request.query = std::move(query);
    request.secure = true;
    if (!credentials.empty())
      request.headers.set("Authorization", "Basic " + crypto::base64_encode(credentials));
    return router_.dispatch(request);
  }

  // POST /internal/data/v1/analytics/batches, as a gateway sends it.
  http::Response post_batch(const std::string& batch,
                            const std::string& credentials = "gateway:internal-secret") {
    http::Request request;
    request.method = "POST";
    request.path = "/internal/data/v1/analytics/batches";
    request.target = request.path;
    request.secure = true;
    request.body = batch;
    request.headers.set("Content-Type", "application/json");
    if (!credentials.empty())
      request.headers.set("Authorization", "Basic " + crypto::base64_encode(credentials));
    return router_.dispatch(request);
  }

  // A gateway's batch of `calls` calls to the Pets API from sam's app-1, a minute ago.
  static std::string gateway_batch(const std::string& batch_id, const std::string& node_id,
                                   int calls) {
    RollupMap rollups;
    for (int i = 0; i < calls; ++i)
      add_event(
          rollups,
          make_event({.app = "app-1", .owner = "sam", .timestamp_ms = (unix_now() - 60) * 1000}));
    return batch_json(batch_id, node_id, rollups);
  }

  std::int64_t requests_of_node(const std::string& node_id) {
    auto response = get("/requests", {{"groupBy", "node"}, {"nodeId", node_id}});
    EXPECT_EQ(response.status, 200) << response.body;
    std::int64_t n = 0;
    const json::object o = body(response);
    for (const json::value& row : o.at("list").as_array()) {
      EXPECT_EQ(row.at("nodeId").as_string(), node_id);
      n += row.at("requests").as_int64();
    }
    return n;
  }

  static json::object body(const http::Response& response) {
    return json::parse(response.body).as_object();
  }

  // sam's app-1 and kim's app-2 call the Pets API within the last few minutes; one old call.
  void seed() {
    const std::int64_t now_ms = unix_now() * 1000;
    for (int i = 0; i < 6; ++i)
      recorder_->record(make_event(
          {.app = "app-1", .owner = "sam", .latency_ms = 10 * (i + 1), .timestamp_ms = now_ms}));
    recorder_->record(make_event({.app = "app-1",
                                  .owner = "sam",
                                  .status = 429,
                                  .timestamp_ms = now_ms,
                                  .error_code = 900802}));
    for (int i = 0; i < 3; ++i)
      recorder_->record(make_event(
          {.app = "app-2", .owner = "kim", .status = 500, .timestamp_ms = now_ms - 120'000}));
    // Two hours ago: outside the default range (the last hour).
    recorder_->record(
        make_event({.app = "app-2", .owner = "kim", .timestamp_ms = now_ms - 7'200'000}));
    recorder_->flush_now();
  }

  Config config_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  events::InProcessBus bus_;
  std::unique_ptr<keymanager::KeyManager> key_manager_;
  std::unique_ptr<Recorder> recorder_;
  http::Router router_;
};

TEST_F(AnalyticsRoutesTest, RequestsByApplicationInTheLastHour) {
  seed();
  auto response = get("/requests", {{"groupBy", "application"}});
  ASSERT_EQ(response.status, 200) << response.body;
  json::object o = body(response);
  EXPECT_EQ(o.at("groupBy").as_string(), "application");
  ASSERT_EQ(o.at("count").as_int64(), 2) << response.body;
  const json::array& list = o.at("list").as_array();
  // Largest first.
  EXPECT_EQ(list[0].at("applicationId").as_string(), "app-1");
  EXPECT_EQ(list[0].at("applicationOwner").as_string(), "sam");
  EXPECT_EQ(list[0].at("requests").as_int64(), 7);
  EXPECT_EQ(list[1].at("applicationId").as_string(), "app-2");
  EXPECT_EQ(list[1].at("requests").as_int64(), 3);
}

TEST_F(AnalyticsRoutesTest, AnExplicitRangeReachesOlderCalls) {
  seed();
  const std::int64_t now_ms = unix_now() * 1000;
  auto response = get("/requests", {{"from", std::to_string(now_ms - 3 * 3'600'000)},
                                    {"to", std::to_string(now_ms + 60'000)}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(body(response).at("list").as_array()[0].at("requests").as_int64(), 11);
}

TEST_F(AnalyticsRoutesTest, ErrorsThrottledAndLatency) {
  seed();
  auto errors = body(get("/errors", {{"groupBy", "status"}}));
  const json::array& by_status = errors.at("list").as_array();
  ASSERT_EQ(by_status.size(), 3u);
  EXPECT_EQ(by_status[0].at("statusClass").as_string(), "5xx");
  EXPECT_EQ(by_status[0].at("errors").as_int64(), 3);
  EXPECT_EQ(by_status[0].at("errorRate").as_double(), 1.0);

  auto throttled = body(get("/throttled", {{"groupBy", "api"}}));
  EXPECT_EQ(throttled.at("list").as_array()[0].at("throttled").as_int64(), 1);

  auto latency = body(get("/latency", {{"groupBy", "application"}, {"applicationId", "app-1"}}));
  const json::array& rows = latency.at("list").as_array();
  ASSERT_EQ(rows.size(), 1u);
  // Latencies 10, 20, ..., 60 and the throttled call's 10.
  EXPECT_NEAR(rows[0].at("averageMs").as_double(), 220.0 / 7, 0.01);
  double p50 = rows[0].at("p50Ms").as_double();
  EXPECT_GT(p50, 20);  // the truth, 30, is in the bucket (20, 30]
  EXPECT_LE(p50, 30);
  double p99 = rows[0].at("p99Ms").as_double();
  EXPECT_GT(p99, 50);  // 60 is in (50, 75]
  EXPECT_LE(p99, 75);
}

TEST_F(AnalyticsRoutesTest, MinuteSeriesInTimeOrder) {
  seed();
  auto o = body(get("/requests", {{"groupBy", "minute"}}));
  const json::array& list = o.at("list").as_array();
  ASSERT_GE(list.size(), 2u);
  for (std::size_t i = 1; i < list.size(); ++i)
    EXPECT_LT(list[i - 1].at("minute").as_string(), list[i].at("minute").as_string());
}

TEST_F(AnalyticsRoutesTest, SubscribersSeeOnlyTheirApplications) {
  seed();
  auto sams = body(get("/requests", {{"groupBy", "application"}}, "sam:sam-password"));
  ASSERT_EQ(sams.at("count").as_int64(), 1);
  EXPECT_EQ(sams.at("list").as_array()[0].at("applicationId").as_string(), "app-1");
  // Asking for another's application answers nothing rather than their data.
  auto peek = body(get("/requests", {{"applicationId", "app-2"}}, "sam:sam-password"));
  EXPECT_EQ(peek.at("count").as_int64(), 0);
  auto kims = body(get("/errors", {{"groupBy", "api"}}, "kim:kim-password"));
  EXPECT_EQ(kims.at("list").as_array()[0].at("requests").as_int64(), 3);
  // apim:api_view (a creator) sees every application.
  auto carols = body(get("/requests", {{"groupBy", "application"}}, "carol:carol-password"));
  EXPECT_EQ(carols.at("count").as_int64(), 2);
  // The pipeline's status is for operators only.
  EXPECT_EQ(get("/status", {}, "sam:sam-password").status, 403);
  auto status = get("/status");
  ASSERT_EQ(status.status, 200);
  EXPECT_EQ(body(status).at("droppedEvents").as_int64(), 0);
}

TEST_F(AnalyticsRoutesTest, CallersMustAuthenticateAndHoldAScope) {
  EXPECT_EQ(get("/requests", {}, "").status, 401);
  EXPECT_EQ(get("/requests", {}, "sam:wrong").status, 401);
  key_manager_->users().create("nobody", "nobody-password", {});
  auto refused = get("/latency", {}, "nobody:nobody-password");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(body(refused).at("code").as_int64(), 900910);
}

TEST_F(AnalyticsRoutesTest, BadParametersAre400) {
  const std::int64_t now_ms = unix_now() * 1000;
  const std::vector<std::multimap<std::string, std::string>> bad = {
      {{"groupBy", "user"}},
      {{"from", "yesterday"}},
      {{"to", "2026-13-01T00:00:00Z"}},
      {{"from", std::to_string(now_ms)}, {"to", std::to_string(now_ms - 1)}},
      {{"from", std::to_string(now_ms)}, {"to", std::to_string(now_ms)}},
      {{"from", std::to_string(now_ms - 32LL * 86'400'000)}, {"to", std::to_string(now_ms)}},
      {{"limit", "0"}},
      {{"limit", "ten"}},
      {{"apiId", std::string(300, 'x')}},
      {{"applicationId", ""}},
  };
  for (const auto& query : bad) {
    for (const char* path : {"/requests", "/errors", "/throttled", "/latency"}) {
      auto response = get(path, query);
      EXPECT_EQ(response.status, 400)
          << path << " " << query.begin()->first << "=" << query.begin()->second;
      json::object o = body(response);
      EXPECT_EQ(o.at("code").as_int64(), 400);
      EXPECT_EQ(o.at("message").as_string(), "Bad Request");
      EXPECT_FALSE(o.at("description").as_string().empty());
    }
  }
  // ISO 8601 and a 31-day range are fine.
  EXPECT_EQ(
      get("/requests", {{"from", "2026-01-01T00:00:00Z"}, {"to", "2026-02-01T00:00:00Z"}}).status,
      200);
}

TEST_F(AnalyticsRoutesTest, AGatewaysBatchIsCountedOnceWhenPostedTwice) {
  const std::string batch = gateway_batch("1700000040000-000001-0000abcd", "gw-1", 4);
  auto first = post_batch(batch);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_FALSE(body(first).at("duplicate").as_bool());
  auto again = post_batch(batch);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(body(again).at("duplicate").as_bool());
  EXPECT_EQ(requests_of_node("gw-1"), 4);
  // The same id from another gateway is another batch.
  ASSERT_EQ(post_batch(gateway_batch("1700000040000-000001-0000abcd", "gw-2", 2)).status, 200);
  EXPECT_EQ(requests_of_node("gw-2"), 2);
  // Gateway traffic is in the same rollups as the rest: by application, sam sees it.
  auto sams = body(get("/requests", {{"groupBy", "application"}}, "sam:sam-password"));
  EXPECT_EQ(sams.at("list").as_array()[0].at("requests").as_int64(), 6);
}

TEST_F(AnalyticsRoutesTest, ABadBatchIsRefusedAndNothingIsStored) {
  std::string batch = gateway_batch("b-1", "gw-1", 3);
  // One rollup of the batch spoiled: the whole batch is refused.
  json::object o = json::parse(batch).as_object();
  o["rollups"].as_array()[0].as_object()["errors"] = 1000;
  auto refused = post_batch(json::serialize(o));
  ASSERT_EQ(refused.status, 400) << refused.body;
  json::object error = body(refused);
  EXPECT_EQ(error.at("code").as_int64(), 400);
  EXPECT_EQ(error.at("message").as_string(), "Bad Request");
  EXPECT_NE(std::string(error.at("description").as_string()).find("errors"), std::string::npos);
  EXPECT_EQ(post_batch("{").status, 400);
  EXPECT_EQ(post_batch(std::string(kMaxBatchBytes + 1, ' ')).status, 413);
  EXPECT_EQ(requests_of_node("gw-1"), 0);
  // Refused, its id is not taken: the corrected batch is stored.
  auto corrected = post_batch(batch);
  ASSERT_EQ(corrected.status, 200) << corrected.body;
  EXPECT_FALSE(body(corrected).at("duplicate").as_bool());
  EXPECT_EQ(requests_of_node("gw-1"), 3);
}

TEST_F(AnalyticsRoutesTest, PostingABatchNeedsTheInternalCredential) {
  const std::string batch = gateway_batch("b-1", "gw-1", 1);
  for (const std::string& credentials :
       {std::string(), std::string("gateway:wrong"), std::string("admin:admin")}) {
    auto response = post_batch(batch, credentials);
    EXPECT_EQ(response.status, 401) << credentials;
    EXPECT_EQ(body(response).at("code").as_int64(), 900901);
  }
  EXPECT_EQ(requests_of_node("gw-1"), 0);
  EXPECT_EQ(post_batch(batch).status, 200);
}

}  // namespace
}  // namespace portico::analytics

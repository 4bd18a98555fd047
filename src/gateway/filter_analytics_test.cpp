#include "gateway/filter_analytics.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gateway/filter_testing.h"

namespace portico::gateway {
namespace {

using namespace filter_test;
using std::chrono::milliseconds;

TEST(AnalyticsFilter, AProxiedCallsEventCarriesTheApiTheCallerAndTheTimings) {
  auto c = call(snapshot_with(), "GET", "/pets/1.0.0/items",
                {{"User-Agent", "curl/8.0"}, {"Content-Length", "0"}});
  authenticated(c->ctx, oauth_principal());
  auto& ctx = c->ctx;
  ctx.correlation_id = "corr-1";
  ctx.request_bytes = 12;
  ctx.response_bytes = 345;
  ctx.request_filters_done = ctx.started + milliseconds(2);
  ctx.upstream_started = ctx.started + milliseconds(3);
  ctx.upstream_head_received = ctx.started + milliseconds(40);
  ctx.response_filters_done = ctx.started + milliseconds(44);
  ctx.finished = ctx.started + milliseconds(50);
  ctx.target_status = 201;
  ctx.proxy_status = 201;

  auto e = AnalyticsFilter::event_for(ctx);
  EXPECT_EQ(e.api_id, "api-1");
  EXPECT_EQ(e.api_name, "PetStore");
  EXPECT_EQ(e.api_version, "1.0.0");
  EXPECT_EQ(e.api_context, "/pets/1.0.0");
  EXPECT_EQ(e.api_method, "GET");
  EXPECT_EQ(e.api_resource_template, "/items");
  EXPECT_EQ(e.api_creator, "alice");
  EXPECT_EQ(e.application_id, "app-1");
  EXPECT_EQ(e.application_name, "shop");
  EXPECT_EQ(e.application_owner, "bob");
  EXPECT_EQ(e.key_type, "PRODUCTION");
  EXPECT_EQ(e.user_name, "carol");
  EXPECT_EQ(e.user_ip, "192.0.2.10");
  EXPECT_EQ(e.user_agent, "curl/8.0");
  EXPECT_EQ(e.correlation_id, "corr-1");
  EXPECT_EQ(e.proxy_response_code, 201);
  EXPECT_EQ(e.target_response_code, 201);
  EXPECT_EQ(e.error_code, 0);
  EXPECT_TRUE(e.error_type.empty());
  EXPECT_EQ(e.response_latency_ms, 50);
  EXPECT_EQ(e.backend_latency_ms, 37);
  EXPECT_EQ(e.request_mediation_latency_ms, 2);
  EXPECT_EQ(e.response_mediation_latency_ms, 4);
  EXPECT_EQ(e.request_timestamp_ms, kNowMs);
  EXPECT_EQ(e.request_bytes, 12);
  EXPECT_EQ(e.response_bytes, 345);
}

TEST(AnalyticsFilter, ARefusalIsRecordedWithItsCodeAndType) {
  auto c = call(snapshot_with(), "GET", "/pets/1.0.0/items");
  reply_error(c->ctx, 401, 900902, "Missing Credentials", "...", "AUTH");
  c->ctx.proxy_status = 401;
  c->ctx.finished = c->ctx.started + milliseconds(1);
  auto e = AnalyticsFilter::event_for(c->ctx);
  EXPECT_EQ(e.proxy_response_code, 401);
  EXPECT_EQ(e.target_response_code, 0);
  EXPECT_EQ(e.error_code, 900902);
  EXPECT_EQ(e.error_type, "AUTH");
  EXPECT_TRUE(e.application_id.empty());
  EXPECT_TRUE(e.key_type.empty());
  EXPECT_EQ(e.backend_latency_ms, 0);
}

// The Recorder's queue slots are reused: filling one that held an authenticated, proxied
// call with an anonymous refusal leaves nothing of the earlier call behind.
TEST(AnalyticsFilter, FillingAReusedEventLeavesNothingOfTheEarlierOne) {
  auto proxied = call(snapshot_with(), "GET", "/pets/1.0.0/items", {{"User-Agent", "curl/8.0"}});
  authenticated(proxied->ctx, oauth_principal());
  proxied->ctx.correlation_id = "corr-1";
  proxied->ctx.target_status = 200;
  proxied->ctx.proxy_status = 200;
  proxied->ctx.response_bytes = 345;
  proxied->ctx.upstream_started = proxied->ctx.started;
  proxied->ctx.upstream_head_received = proxied->ctx.started + milliseconds(40);
  analytics::Event reused;
  AnalyticsFilter::fill_event(proxied->ctx, reused);

  auto refused = call(snapshot_with(), "GET", "/nowhere");
  reply_error(refused->ctx, 404, 404, "Not Found", "...", "OTHER");
  refused->ctx.proxy_status = 404;
  AnalyticsFilter::fill_event(refused->ctx, reused);

  EXPECT_EQ(reused.error_code, 404);
  EXPECT_EQ(reused.proxy_response_code, 404);
  EXPECT_TRUE(reused.api_id.empty());
  EXPECT_TRUE(reused.api_name.empty());
  EXPECT_TRUE(reused.api_resource_template.empty());
  EXPECT_TRUE(reused.key_type.empty());
  EXPECT_TRUE(reused.user_name.empty());
  EXPECT_TRUE(reused.application_id.empty());
  EXPECT_TRUE(reused.user_agent.empty());
  EXPECT_TRUE(reused.correlation_id.empty());
  EXPECT_EQ(reused.target_response_code, 0);
  EXPECT_EQ(reused.response_bytes, 0);
  EXPECT_EQ(reused.backend_latency_ms, 0);
}

TEST(AnalyticsFilter, AnUpstreamFailureIsTargetConnectivity) {
  auto c = call(snapshot_with(), "GET", "/pets/1.0.0/items");
  c->ctx.upstream_error_code = 101503;
  reply_error(c->ctx, 502, 101503, "Bad Gateway", "...", "OTHER");
  c->ctx.proxy_status = 502;
  auto e = AnalyticsFilter::event_for(c->ctx);
  EXPECT_EQ(e.error_code, 101503);
  EXPECT_EQ(e.error_type, "TARGET_CONNECTIVITY");
}

TEST(AnalyticsFilter, APreflightAnsweredHereIsNotAnError) {
  auto c = call(snapshot_with(), "OPTIONS", "/pets/1.0.0/items");
  c->ctx.reply.status = 200;
  c->ctx.reply.is_error = false;
  c->ctx.proxy_status = 200;
  auto e = AnalyticsFilter::event_for(c->ctx);
  EXPECT_EQ(e.error_code, 0);
  EXPECT_TRUE(e.error_type.empty());
}

TEST(AnalyticsFilter, ACallForNoApiStillHasItsRequestFields) {
  auto c = call(snapshot_with(), "GET", "/nowhere");
  reply_error(c->ctx, 404, 404, "Not Found", "...", "OTHER");
  auto e = AnalyticsFilter::event_for(c->ctx);
  EXPECT_TRUE(e.api_id.empty());
  EXPECT_EQ(e.api_method, "GET");
  EXPECT_EQ(e.error_code, 404);
  EXPECT_EQ(e.user_ip, "192.0.2.10");
}

TEST(AnalyticsFilter, OnCompletionTheEventGoesToTheRecorder) {
  auto dir =
      std::filesystem::temp_directory_path() / ("portico-filter-analytics-" + crypto::uuid_v4());
  analytics::Options options;
  options.data_dir = dir.string();
  options.file_sink_path = (dir / "events.jsonl").string();
  options.database_sink = false;
  {
    analytics::Recorder recorder(options, nullptr);
    recorder.start();
    AnalyticsFilter filter(recorder);
    auto c = call(snapshot_with(), "GET", "/pets/1.0.0/items");
    c->ctx.correlation_id = "corr-recorded";
    c->ctx.proxy_status = 200;
    filter.on_complete(c->ctx);
    recorder.flush_now();
    recorder.stop();
    EXPECT_EQ(recorder.dropped(), 0u);
  }
  std::ifstream in(options.file_sink_path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("corr-recorded"), std::string::npos) << text.str();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace portico::gateway

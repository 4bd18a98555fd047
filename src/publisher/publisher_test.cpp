#include "publisher/publisher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/crypto.h"

#include "admin/control_plane_test_fixture.h"

namespace portico::publisher {
namespace {

namespace json = boost::json;

// The Publisher on a real SQLite database with real key manager and admin components,
// driven through its routes as the HTTP server would; records the events it publishes.
class PublisherTest : public testing::ControlPlaneFixture {
 protected:
  void SetUp() override {
    ControlPlaneFixture::SetUp();
    publisher_ = std::make_unique<Publisher>(config_, *db_, bus_, *key_manager_, *admin_);
    publisher_->register_routes(router_);
  }
  void TearDown() override {
    publisher_.reset();
    ControlPlaneFixture::TearDown();
  }

  http::Response call(const std::string& method, const std::string& path,
                      const std::string& body = "",
                      std::multimap<std::string, std::string> query = {}) {
    return call_path(method, "/api/am/publisher/v4" + path, body, std::move(query));
  }
  std::string create_api(const std::string& name) {
    auto r = call("POST", "/apis",
                  R"({"name":")" + name + R"(","context":"/)" + name +
                      R"(","version":"1.0","scopes":[{"scope":{"name":")" + name +
                      R"(_read"}}],"operations":[{"target":"/a","verb":"GET","scopes":[")" + name +
                      R"(_read"]}]})");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json::parse(r.body).at("id").as_string());
  }
  std::unique_ptr<Publisher> publisher_;
};

TEST_F(PublisherTest, LifecycleDeploymentAndDeletionPublishEventsInSequence) {
  std::string id = create_api("pizza");
  ASSERT_EQ(
      call("POST", "/apis/change-lifecycle", "", {{"apiId", id}, {"action", "Publish"}}).status,
      200);
  auto rev = call("POST", "/apis/" + id + "/revisions", R"({"description":"r"})");
  ASSERT_EQ(rev.status, 201) << rev.body;
  std::string rev_id(json::parse(rev.body).at("id").as_string());
  auto deployed = call("POST", "/apis/" + id + "/deploy-revision", R"([{"name":"Default"}])",
                       {{"revisionId", rev_id}});
  ASSERT_EQ(deployed.status, 201) << deployed.body;
  ASSERT_EQ(call("DELETE", "/apis/" + id).status, 200);

  // The API defines scopes: every key manager hears when it takes and when it releases them.
  EXPECT_EQ(event_types(),
            (std::vector<std::string>{"api.scopes_changed", "api.lifecycle_changed", "api.deployed",
                                      "api.scopes_changed", "api.undeployed", "api.deleted"}));
  for (std::size_t i = 1; i < events_.size(); ++i)
    EXPECT_EQ(events_[i].sequence, events_[i - 1].sequence + 1);
  auto lifecycle = json::parse(events_[1].payload_json).as_object();
  EXPECT_EQ(lifecycle.at("api_id"), json::value(id));
  EXPECT_EQ(lifecycle.at("previous_state"), "CREATED");
  EXPECT_EQ(lifecycle.at("state"), "PUBLISHED");
  auto deploy = json::parse(events_[2].payload_json).as_object();
  EXPECT_EQ(deploy.at("revision_id"), json::value(rev_id));
  EXPECT_EQ(deploy.at("environment"), "Default");
}

TEST_F(PublisherTest, RetiringUndeploysFromEveryEnvironment) {
  std::string id = create_api("retiree");
  auto rev = call("POST", "/apis/" + id + "/revisions", "{}");
  std::string rev_id(json::parse(rev.body).at("id").as_string());
  call("POST", "/apis/" + id + "/deploy-revision", R"([{"name":"Default"}])",
       {{"revisionId", rev_id}});
  for (const char* action : {"Publish", "Deprecate", "Retire"})
    ASSERT_EQ(
        call("POST", "/apis/change-lifecycle", "", {{"apiId", id}, {"action", action}}).status,
        200);
  EXPECT_EQ(events_.back().type, "api.undeployed");
  auto deployments = call("GET", "/apis/" + id + "/deployments");
  EXPECT_EQ(json::parse(deployments.body).at("count"), 0);
}

TEST_F(PublisherTest, ApiScopesAreKnownToTheKeyManagerUntilTheApiGoes) {
  auto& tokens = key_manager_->tokens();
  EXPECT_ANY_THROW(tokens.grant_scopes("orders_read", {"admin"}));
  std::string id = create_api("orders");
  EXPECT_EQ(tokens.grant_scopes("orders_read", {"admin"}), "orders_read");
  ASSERT_EQ(call("DELETE", "/apis/" + id).status, 200);
  EXPECT_ANY_THROW(tokens.grant_scopes("orders_read", {"admin"}));
}

TEST_F(PublisherTest, StoredDefinitionExistsForApisCreatedWithoutOne) {
  std::string id = create_api("gen");
  auto swagger = call("GET", "/apis/" + id + "/swagger");
  ASSERT_EQ(swagger.status, 200);
  auto doc = json::parse(swagger.body).as_object();
  EXPECT_TRUE(doc.at("paths").as_object().contains("/a"));
}

// ---- the fields gateways enforce -------------------------------------------------------------

constexpr const char* kGatewayFields = R"({"name":"rt","context":"/rt","version":"1.0",
  "maxTps":{"production":100,"sandbox":"5"},
  "apiKeyHeader":"X-Key","enableApiKeyQueryParam":true,"securityScheme":["api_key"],
  "endpointConfig":{"endpoint_type":"http","production_endpoints":{"url":"https://b.example",
    "config":{"actionDuration":"30000","actionSelect":"discard","suspendErrorCode":["101503"],
              "retryTimeOut":"2","connectTimeout":2000,"unknown":"x"}}},
  "operations":[{"target":"/a","verb":"GET","operationPolicies":{
    "request":[{"policyName":"addHeader","parameters":{"headerName":"X-Tenant","headerValue":"acme"}}],
    "response":[{"policyName":"removeHeader","policyVersion":"v1","parameters":{"headerName":"Server"}}],
    "fault":[]}}]})";

TEST_F(PublisherTest, NewApisCarryTheGatewayFieldDefaults) {
  auto created = call("POST", "/apis", R"({"name":"d","context":"/d","version":"1.0"})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto api = json::parse(created.body).as_object();
  EXPECT_EQ(api.at("apiKeyHeader"), "apikey");
  EXPECT_EQ(api.at("authorizationHeader"), "Authorization");
  EXPECT_EQ(api.at("enableApiKeyQueryParam"), false);
  EXPECT_TRUE(api.at("maxTps").is_null());
  for (const auto& op : api.at("operations").as_array())
    EXPECT_EQ(op.at("operationPolicies"),
              json::parse(R"({"request":[],"response":[],"fault":[]})"));
}

TEST_F(PublisherTest, GatewayFieldsAreStoredNormalized) {
  auto created = call("POST", "/apis", kGatewayFields);
  ASSERT_EQ(created.status, 201) << created.body;
  auto api = json::parse(created.body).as_object();
  EXPECT_EQ(api.at("maxTps"), json::parse(R"({"production":100,"sandbox":5})"));
  EXPECT_EQ(api.at("apiKeyHeader"), "X-Key");
  EXPECT_EQ(api.at("enableApiKeyQueryParam"), true);
  EXPECT_EQ(api.at("endpointConfig").at("production_endpoints"),
            json::parse(R"({"url":"https://b.example","config":{"actionDuration":30000,
                "actionSelect":"discard","suspendErrorCode":["101503"],"retryTimeOut":2,
                "connectTimeout":2000}})"));
  EXPECT_EQ(api.at("operations").at(0).at("operationPolicies"),
            json::parse(R"({"request":[{"policyName":"addHeader","policyVersion":"v1",
                "parameters":{"headerName":"X-Tenant","headerValue":"acme"}}],
                "response":[{"policyName":"removeHeader","policyVersion":"v1",
                "parameters":{"headerName":"Server"}}],"fault":[]})"));
  // What a client reads back it can write back unchanged.
  std::string id(api.at("id").as_string());
  auto put = call("PUT", "/apis/" + id, created.body);
  ASSERT_EQ(put.status, 200) << put.body;
  auto again = json::parse(put.body).as_object();
  again.erase("lastUpdatedTime");
  api.erase("lastUpdatedTime");
  EXPECT_EQ(again, api);
  // null clears maxTps.
  auto cleared = call("PUT", "/apis/" + id, R"({"maxTps":null})");
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_TRUE(json::parse(cleared.body).at("maxTps").is_null());
}

TEST_F(PublisherTest, RefusedGatewayFieldsStoreNothing) {
  auto created = call("POST", "/apis", kGatewayFields);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id(json::parse(created.body).at("id").as_string());
  std::string stored = call("GET", "/apis/" + id).body;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"maxTps":{"production":-1}})", "maxTps.production"},
      {R"({"maxTps":{"sandbox":"many"}})", "maxTps.sandbox"},
      {R"({"maxTps":100})", "maxTps"},
      {R"({"enableApiKeyQueryParam":"yes"})", "enableApiKeyQueryParam"},
      {R"({"apiKeyHeader":"Api Key"})", "apiKeyHeader"},
      {R"({"authorizationHeader":"Auth\r\nX: y"})", "authorizationHeader"},
      {R"({"apiKeyHeader":"authorization"})", "differ"},
      {R"({"operations":[{"target":"/a","verb":"GET","operationPolicies":{"request":[
          {"policyName":"callInterceptorService","parameters":{}}]}}]})",
       "callInterceptorService"},
      {R"({"operations":[{"target":"/a","verb":"GET","operationPolicies":{"request":[
          {"policyName":"addHeader","parameters":{"headerName":"Host","headerValue":"x"}}]}}]})",
       "managed by the gateway"},
      {R"({"operations":[{"target":"/a","verb":"GET","operationPolicies":{"fault":[
          {"policyName":"removeHeader","parameters":{"headerName":"X-A"}}]}}]})",
       "fault"},
      {R"({"endpointConfig":{"endpoint_type":"http","production_endpoints":{
          "url":"https://b.example","config":{"actionDuration":"-5"}}}})",
       "actionDuration"},
      {R"({"endpointConfig":{"endpoint_type":"load_balance","production_endpoints":[
          {"url":"https://b.example"},{"url":"https://c.example","config":{"retryErroCode":["1"]}}]}})",
       "retryErroCode"},
      {R"({"endpointConfig":{"endpoint_type":"failover","production_endpoints":{
          "url":"https://b.example"},"production_failovers":[{"url":"https://c.example",
          "config":{"actionSelect":"retry"}}]}})",
       "actionSelect"},
  };
  for (const auto& [body, fragment] : bad) {
    auto r = call("PUT", "/apis/" + id, body);
    EXPECT_EQ(r.status, 400) << body;
    auto error = json::parse(r.body).as_object();
    EXPECT_EQ(error.at("code"), 400);
    EXPECT_NE(std::string(error.at("description").as_string()).find(fragment), std::string::npos)
        << r.body;
  }
  EXPECT_EQ(call("GET", "/apis/" + id).body, stored);
  auto refused = call("POST", "/apis", R"({"name":"x","context":"/x","version":"1",
                                          "maxTps":{"production":1.5}})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(json::parse(call("GET", "/apis").body).at("count"), 1);
  EXPECT_TRUE(events_.empty());
}

TEST_F(PublisherTest, ANewDefinitionKeepsThePoliciesOfTheOperationsItKeeps) {
  auto created = call("POST", "/apis", R"({"name":"defs","context":"/defs","version":"1.0",
      "operations":[{"target":"/a","verb":"GET","operationPolicies":{"request":[
        {"policyName":"removeHeader","parameters":{"headerName":"X-Debug"}}]}},
        {"target":"/gone","verb":"GET"}]})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id(json::parse(created.body).at("id").as_string());
  std::string definition =
      "openapi: 3.0.3\ninfo: {title: defs, version: '1.0'}\npaths:\n"
      "  /a:\n    get:\n      responses: {'200': {description: ok}}\n"
      "  /b:\n    post:\n      responses: {'200': {description: ok}}\n";
  http::Request request;
  request.method = "PUT";
  request.path = request.target = "/api/am/publisher/v4/apis/" + id + "/swagger";
  request.secure = true;
  request.headers.set("Authorization", "Basic " + crypto::base64_encode("admin:admin"));
  request.headers.set("Content-Type", "multipart/form-data; boundary=XyZ");
  request.body = "--XyZ\r\nContent-Disposition: form-data; name=\"apiDefinition\"\r\n\r\n" +
                 definition + "\r\n--XyZ--\r\n";
  auto r = router_.dispatch(request);
  ASSERT_EQ(r.status, 200) << r.body;
  auto api = json::parse(call("GET", "/apis/" + id).body).as_object();
  std::map<std::string, json::value> policies;
  for (const auto& op : api.at("operations").as_array())
    policies[std::string(op.at("verb").as_string()) + " " +
             std::string(op.at("target").as_string())] = op.at("operationPolicies");
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(policies["GET /a"].at("request").at(0).at("parameters").at("headerName"), "X-Debug");
  EXPECT_TRUE(policies["POST /b"].at("request").as_array().empty());
}

// The gateway's view: the revision's document, with the API's lifecycle state of now.
TEST_F(PublisherTest, RuntimeArtifactsCarryTheRevisionAndTheCurrentLifecycleState) {
  admin_->register_routes(router_);
  config_.internal_api.password = "gateway-secret";
  auto created = call("POST", "/apis", kGatewayFields);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id(json::parse(created.body).at("id").as_string());
  auto rev = call("POST", "/apis/" + id + "/revisions", "{}");
  ASSERT_EQ(rev.status, 201) << rev.body;
  std::string rev_id(json::parse(rev.body).at("id").as_string());
  ASSERT_EQ(call("POST", "/apis/" + id + "/deploy-revision", R"([{"name":"Default"}])",
                 {{"revisionId", rev_id}})
                .status,
            201);
  auto artifact = [&] {
    auto r = call_path("GET", "/internal/data/v1/runtime-artifacts", "",
                       {{"environment", "Default"}}, "gateway:gateway-secret");
    EXPECT_EQ(r.status, 200) << r.body;
    auto list = json::parse(r.body).at("list").as_array();
    EXPECT_EQ(list.size(), 1u);
    return list.at(0).as_object();
  };
  auto before = artifact();
  EXPECT_EQ(before.at("lifeCycleStatus"), "CREATED");
  EXPECT_EQ(before.at("api").at("maxTps"), json::parse(R"({"production":100,"sandbox":5})"));
  EXPECT_EQ(before.at("api")
                .at("operations")
                .at(0)
                .at("operationPolicies")
                .at("request")
                .at(0)
                .at("policyName"),
            "addHeader");

  clear_events();
  for (const char* action : {"Publish", "Block"})
    ASSERT_EQ(
        call("POST", "/apis/change-lifecycle", "", {{"apiId", id}, {"action", action}}).status,
        200);
  auto after = artifact();
  EXPECT_EQ(after.at("lifeCycleStatus"), "BLOCKED");
  EXPECT_EQ(after.at("revisionId"), json::value(rev_id));
  EXPECT_EQ(after.at("api").at("lifeCycleStatus"), "CREATED");  // the revision's, unchanged
  ASSERT_EQ(event_types(),
            (std::vector<std::string>{"api.lifecycle_changed", "api.lifecycle_changed"}));
  EXPECT_EQ(
      json::value(payload(1)),
      json::parse(R"({"api_id":")" + id + R"(","previous_state":"PUBLISHED","state":"BLOCKED"})"));
}

}  // namespace
}  // namespace portico::publisher

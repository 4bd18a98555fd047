#include "publisher/publisher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>

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

  EXPECT_EQ(event_types(), (std::vector<std::string>{"api.lifecycle_changed", "api.deployed",
                                                     "api.undeployed", "api.deleted"}));
  for (std::size_t i = 1; i < events_.size(); ++i)
    EXPECT_EQ(events_[i].sequence, events_[i - 1].sequence + 1);
  auto lifecycle = json::parse(events_[0].payload_json).as_object();
  EXPECT_EQ(lifecycle.at("api_id"), json::value(id));
  EXPECT_EQ(lifecycle.at("previous_state"), "CREATED");
  EXPECT_EQ(lifecycle.at("state"), "PUBLISHED");
  auto deploy = json::parse(events_[1].payload_json).as_object();
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

}  // namespace
}  // namespace portico::publisher

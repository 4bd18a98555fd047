// The events the portal publishes for gateways, checked on a whole in-process control plane
// (Key Manager, Admin, Developer Portal) over SQLite, driven through its router.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <mutex>

#include "admin/control_plane_test_fixture.h"
#include "common/crypto.h"
#include "devportal/devportal.h"
#include "events/event_bus.h"
#include "keymanager/keymanager.h"
#include "store/devportal_test_support.h"
#include "store/store_test_fixture.h"

namespace portico::devportal {
namespace {

namespace json = boost::json;

class DevPortalEventsTest : public testing::ControlPlaneFixture {
 protected:
  void SetUp() override {
    ControlPlaneFixture::SetUp();
    portal_ = std::make_unique<DevPortal>(config_, *db_, bus_, *key_manager_, *admin_);
    portal_->register_routes(router_);
    store::testing::insert_api(*db_, "api-1", "pets", "PUBLISHED");
    store::testing::insert_api_row(*db_, "api_subscription_policies", "api-1", "policy", "Gold");
    clear_events();
  }
  void TearDown() override {
    portal_.reset();
    ControlPlaneFixture::TearDown();
  }

  http::Response call(std::string method, std::string path, std::string body = "") {
    return call_path(method, "/api/am/devportal/v3" + path, body);
  }

  std::unique_ptr<DevPortal> portal_;
};

TEST_F(DevPortalEventsTest, EveryChangeIsAnEventInSequence) {
  auto app = call("POST", "/applications", R"({"name":"a","throttlingPolicy":"Unlimited"})");
  ASSERT_EQ(app.status, 201) << app.body;
  std::string app_id(json::parse(app.body).at("applicationId").as_string());
  auto keys = call("POST", "/applications/" + app_id + "/generate-keys",
                   R"({"keyType":"PRODUCTION","grantTypesToBeSupported":["client_credentials"]})");
  ASSERT_EQ(keys.status, 200) << keys.body;
  auto sub =
      call("POST", "/subscriptions",
           R"({"applicationId":")" + app_id + R"(","apiId":"api-1","throttlingPolicy":"Gold"})");
  ASSERT_EQ(sub.status, 201) << sub.body;
  auto key = call("POST", "/applications/" + app_id + "/api-keys/PRODUCTION/generate", "{}");
  ASSERT_EQ(key.status, 200) << key.body;
  std::string api_key(json::parse(key.body).at("apikey").as_string());
  ASSERT_EQ(call("POST", "/applications/" + app_id + "/api-keys/PRODUCTION/revoke",
                 R"({"apikey":")" + api_key + R"("})")
                .status,
            200);
  ASSERT_EQ(call("DELETE", "/applications/" + app_id).status, 200);

  // Issuing the generate-keys token publishes nothing; everything else does. Removing the
  // application's OAuth client is the key manager's own event, for every node's client cache.
  std::vector<std::string> expected = {"application.created",  "application.key_mapping.created",
                                       "subscription.created", "api_key.revoked",
                                       "oauth_client.updated", "application.key_mapping.deleted",
                                       "subscription.deleted", "application.deleted"};
  EXPECT_EQ(event_types(), expected);
  std::lock_guard lock(events_mutex_);
  for (std::size_t i = 1; i < events_.size(); ++i) {
    EXPECT_EQ(events_[i].sequence, events_[i - 1].sequence + 1);
  }
  auto payload = json::parse(events_[0].payload_json).as_object();
  EXPECT_EQ(payload.at("application_id").as_string(), app_id);
  EXPECT_EQ(payload.at("owner").as_string(), "admin");
}

TEST_F(DevPortalEventsTest, RefusedRequestsPublishNothing) {
  EXPECT_EQ(call("POST", "/applications", R"({"name":"a","throttlingPolicy":"Nope"})").status, 400);
  EXPECT_EQ(call("POST", "/subscriptions",
                 R"({"applicationId":"x","apiId":"api-1","throttlingPolicy":"Gold"})")
                .status,
            404);
  EXPECT_TRUE(event_types().empty());
}

}  // namespace
}  // namespace portico::devportal

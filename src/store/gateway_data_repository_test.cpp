#include "store/gateway_data_repository.h"

#include <gtest/gtest.h>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

class GatewayDataRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    data_ = std::make_unique<GatewayDataRepository>(*db_);
    db_->with_session([](soci::session& sql) {
      for (int i = 0; i < 3; ++i) {
        std::string n = std::to_string(i);
        sql << "INSERT INTO apis (id, name, version, context, provider, lifecycle_status, "
               "visibility, is_default_version, description, document, openapi, "
               "thumbnail_type, thumbnail, created_time, updated_time) VALUES ('api-" +
                   n + "', 'Api" + n + "', '1.0.0', '/a" + n +
                   "', 'admin', 'PUBLISHED', 'PUBLIC', 1, '', '{}', '', '', '', 1, 1)";
        sql << "INSERT INTO api_revisions (id, api_id, revision_number, description, document, "
               "openapi, created_time) VALUES ('rev-" +
                   n + "', 'api-" + n + "', 1, '', '{\"name\":\"Api" + n +
                   "\"}', 'openapi: 3.0.0', 1)";
        sql << "INSERT INTO applications (id, name, owner, throttling_policy, token_type, status, "
               "document, created_time, updated_time) VALUES ('app-" +
                   n + "', 'App" + n + "', 'alice', '10PerMin', 'JWT', 'APPROVED', '{}', 1, 2)";
        sql << "INSERT INTO application_key_mappings (id, application_id, key_type, client_id, "
               "document, created_time) VALUES ('km-" +
                   n + "', 'app-" + n + "', 'PRODUCTION', 'client-" + n + "', '{}', 1)";
        sql << "INSERT INTO subscriptions (id, application_id, api_id, throttling_policy, status, "
               "created_time, updated_time) VALUES ('sub-" +
                   n + "', 'app-" + n + "', 'api-" + n + "', 'Gold', 'UNBLOCKED', 1, 2)";
      }
      sql << "INSERT INTO api_deployments (api_id, revision_id, environment, vhost, "
             "display_on_devportal, deployed_time) VALUES ('api-0', 'rev-0', 'Default', "
             "'localhost', 1, 5)";
      sql << "INSERT INTO api_deployments (api_id, revision_id, environment, vhost, "
             "display_on_devportal, deployed_time) VALUES ('api-2', 'rev-2', 'Default', "
             "'localhost', 0, 6)";
      sql << "INSERT INTO api_deployments (api_id, revision_id, environment, vhost, "
             "display_on_devportal, deployed_time) VALUES ('api-1', 'rev-1', 'Other', "
             "'other.example', 1, 7)";
    });
  }
  std::unique_ptr<GatewayDataRepository> data_;
};
PORTICO_STORE_BACKENDS(GatewayDataRepositoryTest);

TEST_P(GatewayDataRepositoryTest, SubscriptionsPageByKey) {
  auto first = data_->subscriptions_after("", 2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].id, "sub-0");
  EXPECT_EQ(first[0].application_id, "app-0");
  EXPECT_EQ(first[0].api_id, "api-0");
  EXPECT_EQ(first[0].throttling_policy, "Gold");
  EXPECT_EQ(first[0].status, "UNBLOCKED");
  EXPECT_EQ(first[0].updated_time, 2);
  auto rest = data_->subscriptions_after(first.back().id, 2);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].id, "sub-2");
}

TEST_P(GatewayDataRepositoryTest, ApplicationsAndKeyMappings) {
  auto apps = data_->applications_after("app-0", 10);
  ASSERT_EQ(apps.size(), 2u);
  EXPECT_EQ(apps[0].name, "App1");
  EXPECT_EQ(apps[0].owner, "alice");
  EXPECT_EQ(apps[0].token_type, "JWT");
  auto keys = data_->key_mappings_after("", 10);
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[2].client_id, "client-2");
  EXPECT_EQ(keys[2].key_type, "PRODUCTION");
}

TEST_P(GatewayDataRepositoryTest, DeploymentsOfOneEnvironmentWithTheirRevision) {
  auto page = data_->deployments_after("Default", "", 1);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].api_id, "api-0");
  EXPECT_EQ(page[0].revision_id, "rev-0");
  EXPECT_TRUE(page[0].display_on_devportal);
  EXPECT_EQ(page[0].document, R"({"name":"Api0"})");
  EXPECT_EQ(page[0].openapi, "openapi: 3.0.0");
  auto rest = data_->deployments_after("Default", "api-0", 10);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].api_id, "api-2");
  EXPECT_FALSE(rest[0].display_on_devportal);
  EXPECT_TRUE(data_->deployments_after("Nowhere", "", 10).empty());
}

TEST_P(GatewayDataRepositoryTest, DeploymentsCarryTheApisCurrentLifecycleState) {
  EXPECT_EQ(data_->deployments_after("Default", "", 10).at(0).lifecycle_status, "PUBLISHED");
  // A lifecycle change makes no revision: the deployment still runs rev-0, in the new state.
  db_->with_session([](soci::session& sql) {
    sql << "UPDATE apis SET lifecycle_status = 'BLOCKED' WHERE id = 'api-0'";
  });
  auto page = data_->deployments_after("Default", "", 10);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].revision_id, "rev-0");
  EXPECT_EQ(page[0].lifecycle_status, "BLOCKED");
  EXPECT_EQ(page[1].lifecycle_status, "PUBLISHED");
}

TEST_P(GatewayDataRepositoryTest, ReadsOneApplicationWithItsKeysAndSubscriptions) {
  auto app = data_->application("app-1");
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->name, "App1");
  EXPECT_EQ(app->status, "APPROVED");
  auto keys = data_->key_mappings_of("app-1");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].client_id, "client-1");
  auto subs = data_->subscriptions_of("app-1");
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(subs[0].api_id, "api-1");
  EXPECT_FALSE(data_->application("app-9").has_value());
  EXPECT_TRUE(data_->key_mappings_of("app-9").empty());
}

TEST_P(GatewayDataRepositoryTest, FindsAKeyMappingByClientAndASubscriptionById) {
  auto mapping = data_->key_mapping_by_client("client-2");
  ASSERT_TRUE(mapping.has_value());
  EXPECT_EQ(mapping->application_id, "app-2");
  EXPECT_FALSE(data_->key_mapping_by_client("client-9").has_value());
  auto sub = data_->subscription("sub-0");
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->application_id, "app-0");
  EXPECT_FALSE(data_->subscription("sub-9").has_value());
}

}  // namespace
}  // namespace portico::store

// The events the portal publishes for gateways, checked on a whole in-process control plane
// (Key Manager, Admin, Developer Portal) over SQLite, driven through its router.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <mutex>

#include "admin/admin.h"
#include "common/crypto.h"
#include "devportal/devportal.h"
#include "events/event_bus.h"
#include "keymanager/keymanager.h"
#include "store/devportal_test_support.h"
#include "store/store_test_fixture.h"

namespace portico::devportal {
namespace {

namespace json = boost::json;

class DevPortalEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portico-devportal-" + store::testing::random_suffix());
    config_.data_dir = dir_.string();
    config_.admin.password = "events-admin-password";
    db_ = store::Database::open((dir_ / "portico.db").string(), 2);
    db_->migrate();
    bus_.subscribe([this](const events::Event& e) {
      std::lock_guard lock(mutex_);
      events_.push_back(e);
    });
    km_ = std::make_unique<keymanager::KeyManager>(config_, *db_, bus_);
    km_->initialize();
    admin_ = std::make_unique<admin::Admin>(config_, *db_, bus_, *km_);
    admin_->initialize();
    portal_ = std::make_unique<DevPortal>(config_, *db_, bus_, *km_, *admin_);
    portal_->register_routes(router_);
    store::testing::insert_api(*db_, "api-1", "pets", "PUBLISHED");
    store::testing::insert_api_row(*db_, "api_subscription_policies", "api-1", "policy", "Gold");
    events_.clear();
  }

  void TearDown() override {
    portal_.reset();
    admin_.reset();
    km_.reset();
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  http::Response call(std::string method, std::string path, std::string body = "") {
    http::Request request;
    request.method = std::move(method);
    request.path = "/api/am/devportal/v3" + path;
    request.target = request.path;
    request.body = std::move(body);
    request.secure = true;
    request.headers.set("Authorization",
                        "Basic " + crypto::base64_encode("admin:events-admin-password"));
    if (!request.body.empty()) request.headers.set("Content-Type", "application/json");
    return router_.dispatch(request);
  }

  std::vector<std::string> event_types() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& e : events_) out.push_back(e.type);
    return out;
  }

  Config config_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  events::InProcessBus bus_;
  std::unique_ptr<keymanager::KeyManager> km_;
  std::unique_ptr<admin::Admin> admin_;
  std::unique_ptr<DevPortal> portal_;
  http::Router router_;
  std::mutex mutex_;
  std::vector<events::Event> events_;
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

  // Issuing the generate-keys token publishes nothing; everything else does.
  std::vector<std::string> expected = {
      "application.created", "application.key_mapping.created", "subscription.created",
      "api_key.revoked",     "application.key_mapping.deleted", "subscription.deleted",
      "application.deleted"};
  EXPECT_EQ(event_types(), expected);
  std::lock_guard lock(mutex_);
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

// Who may call POST /oauth2/introspect: a gateway with the [internal_api] credential or a live
// one of its own, a confidential client (of its own tokens only, RFC 7662 §4), an
// administrator; nobody else.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>

#include "common/crypto.h"
#include "keymanager/keymanager.h"

namespace portico::keymanager {
namespace {

class IntrospectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portico-introspect-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    config_.internal_api.username = "gateway";
    config_.internal_api.password = "s3cret:with%25+chars";
    db_ = store::Database::open((dir_ / "test.db").string(), 2);
    db_->migrate();
    km_ = std::make_unique<KeyManager>(config_, *db_, bus_);
    km_->initialize();
    km_->register_routes(router_);
    km_->users().create("alice", "wonderland", {"subscriber"});
    ClientRegistration r;
    r.name = "app";
    r.owner = "alice";
    r.grant_types = {"client_credentials"};
    auto registered = km_->clients().register_client(r);
    client_ = registered.record;
    client_secret_ = registered.client_secret;
    token_ = km_->tokens().issue_for_client(client_, "", 0).access_token;
  }
  void TearDown() override {
    km_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  http::Response introspect(std::string_view user, std::string_view password) {
    http::Request request;
    request.method = "POST";
    request.target = request.path = "/oauth2/introspect";
    request.headers.set("Content-Type", "application/x-www-form-urlencoded");
    request.headers.set("Authorization", "Basic " + crypto::base64_encode(std::string(user) + ":" +
                                                                          std::string(password)));
    request.body = "token=" + http::percent_encode(token_);
    return router_.dispatch(request);
  }

  static bool active(const http::Response& response) {
    auto body = boost::json::parse(response.body).as_object();
    return body.at("active").as_bool();
  }

  Config config_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  events::InProcessBus bus_;
  std::unique_ptr<KeyManager> km_;
  http::Router router_;
  store::ClientRecord client_;
  std::string client_secret_;
  std::string token_;
};

TEST_F(IntrospectionTest, TheInternalApiCredentialMayIntrospect) {
  // Sent raw, as configured: '%' and '+' in the password are not form-decoded.
  auto response = introspect("gateway", "s3cret:with%25+chars");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_TRUE(active(response));
}

TEST_F(IntrospectionTest, AWrongInternalPasswordIsRefused) {
  auto response = introspect("gateway", "s3cret:with%25+chars!");
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(boost::json::parse(response.body).at("error").as_string(), "invalid_client");
}

TEST_F(IntrospectionTest, AnEmptyInternalPasswordRefusesEveryone) {
  config_.internal_api.password.clear();
  EXPECT_EQ(introspect("gateway", "").status, 401);
}

TEST_F(IntrospectionTest, AConfidentialClientMayIntrospectItsOwnTokens) {
  auto response = introspect(client_.client_id, client_secret_);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_TRUE(active(response));
}

TEST_F(IntrospectionTest, AnotherClientsTokenIsInactiveToAClient) {
  ClientRegistration r;
  r.name = "introspector";
  r.owner = "alice";
  r.grant_types = {"client_credentials"};
  auto registered = km_->clients().register_client(r);
  auto response = introspect(registered.record.client_id, registered.client_secret);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body, R"({"active":false})");
}

TEST_F(IntrospectionTest, AnInternalCredentialOfAnotherLengthIsRefused) {
  EXPECT_EQ(introspect("gateway", "s3cret").status, 401);
  EXPECT_EQ(introspect("gateway", "").status, 401);
  EXPECT_EQ(introspect("gatewayx", "s3cret:with%25+chars").status, 401);
  EXPECT_EQ(introspect("", "s3cret:with%25+chars").status, 401);
}

TEST_F(IntrospectionTest, AnAdministratorStillMayIntrospect) {
  auto response = introspect(config_.admin.username, config_.admin.password);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_TRUE(active(response));
}

TEST_F(IntrospectionTest, AnOrdinaryUserMayNot) {
  EXPECT_EQ(introspect("alice", "wonderland").status, 401);
}

// A per-gateway credential as admin's gateway-credentials API stores it: the secret's SHA-256.
store::GatewayCredentialRecord gateway_credential(store::Database& db, const std::string& username,
                                                  const std::string& secret) {
  store::GatewayCredentialRecord record{crypto::uuid_v4(), username, crypto::sha256_hex(secret),
                                        "gw-eu-1",         "cloud",  1};
  store::GatewayCredentialsRepository(db).create(record);
  return record;
}

TEST_F(IntrospectionTest, ALiveGatewayCredentialMayIntrospect) {
  gateway_credential(*db_, "gw-abc", "0123456789");
  auto response = introspect("gw-abc", "0123456789");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_TRUE(active(response));
}

TEST_F(IntrospectionTest, ARevokedOrWrongGatewayCredentialIsRefused) {
  auto record = gateway_credential(*db_, "gw-abc", "0123456789");
  EXPECT_EQ(introspect("gw-abc", "0123456789x").status, 401);
  EXPECT_EQ(introspect("gw-abd", "0123456789").status, 401);
  ASSERT_TRUE(store::GatewayCredentialsRepository(*db_).revoke(record.id, 2));
  auto response = introspect("gw-abc", "0123456789");
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(boost::json::parse(response.body).at("error").as_string(), "invalid_client");
}

TEST_F(IntrospectionTest, TheGatewayCallerNamesItsOwnCredentialOrNone) {
  auto record = gateway_credential(*db_, "gw-abc", "0123456789");
  auto request = [](std::string_view pair) {
    http::Request r;
    r.headers.set("Authorization", "Basic " + crypto::base64_encode(std::string(pair)));
    return r;
  };
  auto shared = km_->authenticate_gateway(request("gateway:s3cret:with%25+chars"));
  ASSERT_TRUE(shared);
  EXPECT_FALSE(shared->own);
  auto own = km_->authenticate_gateway(request("gw-abc:0123456789"));
  ASSERT_TRUE(own && own->own);
  EXPECT_EQ(own->own->id, record.id);
  EXPECT_EQ(own->own->environment, "cloud");
  // Names without the prefix are never looked up: users and clients are someone else.
  EXPECT_FALSE(km_->authenticate_gateway(request("alice:wonderland")));
  EXPECT_FALSE(km_->authenticate_gateway(request("gw-abc")));
  EXPECT_FALSE(km_->authenticate_gateway(http::Request{}));
}

}  // namespace
}  // namespace portico::keymanager

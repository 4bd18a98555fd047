#include "keymanager/token_service.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>

#include "common/bounded_pool.h"
#include "common/jwt.h"
#include "keymanager/oauth_error.h"

namespace portico::keymanager {
namespace {

// A token service on a real SQLite database in a temporary directory.
class TokenServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portico-tokens-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    db_ = store::Database::open((dir_ / "test.db").string(), 2);
    db_->migrate();
    users_ = std::make_unique<Users>(*db_, std::chrono::seconds(0), std::chrono::seconds(0), pool_,
                                     throttle_);
    clients_ = std::make_unique<Clients>(*db_, std::chrono::seconds(0), std::chrono::seconds(0),
                                         pool_, throttle_);
    keys_ = std::make_unique<KeyRing>(*db_, jwt::Algorithm::RS256, 90);
    keys_->load();
    tokens_ = std::make_unique<TokenService>(config_, *db_, *keys_, *clients_, *users_, bus_);
    bus_.subscribe([this](const events::Event& e) { events_.push_back(e); });
    users_->create("alice", "wonderland", {"subscriber"});
    ClientRegistration r;
    r.name = "app";
    r.owner = "alice";
    r.grant_types = {"client_credentials", "password", "refresh_token"};
    client_ = clients_->register_client(r).record;
  }
  void TearDown() override {
    tokens_.reset();
    keys_.reset();
    clients_.reset();
    users_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  Config config_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  events::InProcessBus bus_;
  std::vector<events::Event> events_;
  BoundedPool pool_{1, 16};
  LoginThrottle throttle_{ThrottlePolicy{}};
  std::unique_ptr<Users> users_;
  std::unique_ptr<Clients> clients_;
  std::unique_ptr<KeyRing> keys_;
  std::unique_ptr<TokenService> tokens_;
  store::ClientRecord client_;
};

TEST_F(TokenServiceTest, RevokingAJwtPublishesItsJtiForGateways) {
  auto issued = tokens_->issue_for_client(client_, "", 0);
  auto info = tokens_->validate(issued.access_token);
  ASSERT_TRUE(info);
  tokens_->revoke(client_, issued.access_token);
  EXPECT_FALSE(tokens_->validate(issued.access_token));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].type, "token.revoked");
  auto payload = boost::json::parse(events_[0].payload_json).as_object();
  EXPECT_EQ(payload.at("jti").as_string(), info->jti);
  EXPECT_EQ(payload.at("expires_at").as_int64(), info->expires_at);
}

TEST_F(TokenServiceTest, AnotherClientCannotRevokeAToken) {
  auto issued = tokens_->issue_for_client(client_, "", 0);
  ClientRegistration r;
  r.name = "other";
  r.owner = "alice";
  r.grant_types = {"client_credentials"};
  auto other = clients_->register_client(r).record;
  tokens_->revoke(other, issued.access_token);
  EXPECT_TRUE(tokens_->validate(issued.access_token));
  EXPECT_TRUE(events_.empty());
}

TEST_F(TokenServiceTest, RestScopesAreFilteredByRolesAndUnknownScopesRefused) {
  EXPECT_EQ(tokens_->grant_scopes("apim:subscribe apim:api_create", {"subscriber"}),
            "apim:subscribe");
  EXPECT_EQ(tokens_->grant_scopes("apim:api_create", {"subscriber"}), "default");
  EXPECT_THROW(tokens_->grant_scopes("nosuch", {"subscriber"}), OAuthError);
  tokens_->set_api_scope_lookup(
      [](const std::string& s) -> std::optional<std::vector<std::string>> {
        if (s == "pets:read") return std::vector<std::string>{};
        if (s == "pets:write") return std::vector<std::string>{"creator", "admin"};
        return std::nullopt;
      });
  EXPECT_EQ(tokens_->grant_scopes("pets:read", {"subscriber"}), "pets:read");
  // A role-bound scope goes only to holders of one of its roles.
  EXPECT_EQ(tokens_->grant_scopes("pets:read pets:write", {"subscriber"}), "pets:read");
  EXPECT_EQ(tokens_->grant_scopes("pets:write", {"creator"}), "pets:write");
}

TEST_F(TokenServiceTest, TokenSignedByAnUnknownKeyIsNotValid) {
  auto stranger = jwt::SigningKey::generate(jwt::Algorithm::RS256, "stranger");
  auto issued = tokens_->issue_for_client(client_, "", 0);
  auto decoded = jwt::decode(issued.access_token);
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(tokens_->validate(stranger.encode(decoded->payload_json)));
}

TEST_F(TokenServiceTest, ClientLifetimeOverridesTheDefaultAndIsCapped) {
  auto issued = tokens_->issue_for_client(client_, "", 120);
  EXPECT_EQ(issued.expires_in, 120);
  issued = tokens_->issue_for_client(client_, "", kMaxAccessTokenLifetime * 2);
  EXPECT_EQ(issued.expires_in, kMaxAccessTokenLifetime);
}

}  // namespace
}  // namespace portico::keymanager

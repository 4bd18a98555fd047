#include "keymanager/token_service.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <thread>

#include "common/bounded_pool.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/jwt.h"
#include "keymanager/oauth_error.h"
#include "store/tokens_repository.h"

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

  // A confidential client of alice's with every grant, and its secret.
  std::pair<store::ClientRecord, std::string> user_client(bool trusted = false,
                                                          std::string token_type = "JWT") {
    ClientRegistration r;
    r.name = "user-app";
    r.owner = "alice";
    r.grant_types = {"password", "refresh_token", "authorization_code", "client_credentials"};
    r.redirect_uris = {"https://app.example/cb"};
    r.token_type = std::move(token_type);
    r.trusted = trusted;
    auto registered = clients_->register_client(r);
    return {registered.record, registered.client_secret};
  }
  IssuedToken grant(const std::pair<store::ClientRecord, std::string>& client, Form form) {
    return tokens_->token(form, std::pair{client.first.client_id, client.second}, "127.0.0.1");
  }
  IssuedToken password(const std::pair<store::ClientRecord, std::string>& client,
                       const std::string& scope = "") {
    Form form{{"grant_type", "password"}, {"username", "alice"}, {"password", "wonderland"}};
    if (!scope.empty()) form.emplace("scope", scope);
    return grant(client, form);
  }
  IssuedToken refresh(const std::pair<store::ClientRecord, std::string>& client,
                      const std::string& refresh_token) {
    return grant(client, {{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}});
  }
  static std::string oauth_error(const std::function<void()>& call) {
    try {
      call();
    } catch (const OAuthError& e) {
      return e.error;
    }
    return "no error";
  }
  boost::json::object introspected(const std::string& token) {
    return boost::json::parse(tokens_->introspect(token)).as_object();
  }
  std::set<std::string> revoked_jtis() const {
    std::set<std::string> out;
    for (auto& e : events_)
      if (e.type == "token.revoked")
        out.insert(std::string(boost::json::parse(e.payload_json).at("jti").as_string()));
    return out;
  }
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

TEST_F(TokenServiceTest, EndingAUsersGrantsRevokesTheirTokensAndTellsGateways) {
  auto client = user_client();
  auto first = password(client);
  auto second = password(client);
  auto application_token = tokens_->issue_for_client(client.first, "", 0);
  auto first_jti = tokens_->validate(first.access_token)->jti;
  auto second_jti = tokens_->validate(second.access_token)->jti;
  tokens_->revoke_user_grants("alice");
  EXPECT_FALSE(tokens_->validate(first.access_token));
  EXPECT_FALSE(tokens_->validate(second.access_token));
  EXPECT_EQ(revoked_jtis(), (std::set<std::string>{first_jti, second_jti}));
  EXPECT_EQ(oauth_error([&] { refresh(client, first.refresh_token); }), "invalid_grant");
  EXPECT_EQ(oauth_error([&] { refresh(client, second.refresh_token); }), "invalid_grant");
  // The application's own token is the application's.
  EXPECT_TRUE(tokens_->validate(application_token.access_token));
}

TEST_F(TokenServiceTest, OpaqueUserTokensAreRevokedWithTheirUser) {
  auto client = user_client(false, "OAUTH");
  auto issued = password(client);
  ASSERT_TRUE(tokens_->validate(issued.access_token));
  tokens_->revoke_user_grants("alice");
  EXPECT_FALSE(tokens_->validate(issued.access_token));
  EXPECT_EQ(revoked_jtis().size(), 1u);
}

TEST_F(TokenServiceTest, ARefreshForADeletedUserIsInvalidGrant) {
  auto client = user_client();
  auto issued = password(client);
  ASSERT_TRUE(users_->remove(users_->find("alice")->id));
  EXPECT_EQ(oauth_error([&] { refresh(client, issued.refresh_token); }), "invalid_grant");
}

TEST_F(TokenServiceTest, ARefreshKeepsOnlyTheScopesTheUsersRolesStillGrant) {
  auto client = user_client(true);
  auto issued = password(client, "apim:subscribe openid");
  EXPECT_EQ(issued.scope, "apim:subscribe openid");
  users_->set_roles(users_->find("alice")->id, {"creator"});
  auto refreshed = refresh(client, issued.refresh_token);
  EXPECT_EQ(refreshed.scope, "openid");
  users_->set_roles(users_->find("alice")->id, {"subscriber"});
  // Narrowed for good: the grant does not widen back.
  EXPECT_EQ(refresh(client, refreshed.refresh_token).scope, "openid");
}

TEST_F(TokenServiceTest, ARotatedRefreshTokenEndsWhenTheFirstOfItsFamilyDoes) {
  auto client = user_client();
  auto issued = password(client);
  auto first_expiry = introspected(issued.refresh_token).at("exp").as_int64();
  // The next second, so that a fresh lifetime would end later.
  for (auto start = unix_now(); unix_now() == start;)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto rotated = refresh(client, issued.refresh_token);
  EXPECT_EQ(introspected(rotated.refresh_token).at("exp").as_int64(), first_expiry);
}

TEST_F(TokenServiceTest, AnUntrustedClientGetsNoRestApiScopes) {
  auto untrusted = user_client(false);
  EXPECT_EQ(password(untrusted, "apim:subscribe openid").scope, "openid");
  EXPECT_EQ(password(untrusted, "apim:subscribe").scope, "default");
  auto trusted = user_client(true);
  EXPECT_EQ(password(trusted, "apim:subscribe openid").scope, "apim:subscribe openid");
  clients_->set_trusted(untrusted.first.client_id, true);
  EXPECT_EQ(password(untrusted, "apim:subscribe").scope, "apim:subscribe");
}

TEST_F(TokenServiceTest, AReplayedCodeRevokesTheTokensIssuedForIt) {
  auto client = user_client();
  auto code = tokens_->create_authorization_code(client.first, *users_->find("alice"), "", "", "");
  Form form{{"grant_type", "authorization_code"}, {"code", code}};
  auto issued = grant(client, form);
  auto jti = tokens_->validate(issued.access_token)->jti;
  auto refreshed = refresh(client, issued.refresh_token);
  EXPECT_EQ(oauth_error([&] { grant(client, form); }), "invalid_grant");
  EXPECT_FALSE(tokens_->validate(issued.access_token));
  EXPECT_FALSE(tokens_->validate(refreshed.access_token));
  EXPECT_TRUE(revoked_jtis().count(jti));
  EXPECT_EQ(oauth_error([&] { refresh(client, refreshed.refresh_token); }), "invalid_grant");
}

TEST_F(TokenServiceTest, AnApiKeyIsNotAnAccessToken) {
  auto now = unix_now();
  boost::json::object claims{{"iss", config_.issuer()}, {"sub", "alice"}, {"token_type", "apiKey"},
                             {"keytype", "PRODUCTION"}, {"iat", now},     {"exp", now + 600},
                             {"jti", crypto::uuid_v4()}};
  auto key = keys_->active()->encode(boost::json::serialize(claims));
  EXPECT_FALSE(tokens_->validate(key));
  EXPECT_EQ(tokens_->introspect(key), R"({"active":false})");
}

TEST_F(TokenServiceTest, IntrospectionSaysWhetherAUserSignedIn) {
  for (std::string type : {"JWT", "OAUTH"}) {
    auto client = user_client(false, type);
    EXPECT_EQ(introspected(password(client).access_token).at("aut").as_string(), "APPLICATION_USER")
        << type;
    EXPECT_EQ(introspected(tokens_->issue_for_client(client.first, "", 0).access_token)
                  .at("aut")
                  .as_string(),
              "APPLICATION")
        << type;
  }
}

TEST_F(TokenServiceTest, IntrospectionForAClientShowsOnlyItsOwnTokens) {
  auto client = user_client();
  auto issued = password(client);
  EXPECT_TRUE(boost::json::parse(tokens_->introspect(issued.access_token, client.first.client_id))
                  .at("active")
                  .as_bool());
  EXPECT_EQ(tokens_->introspect(issued.access_token, std::string("another")),
            R"({"active":false})");
  EXPECT_EQ(tokens_->introspect(issued.refresh_token, std::string("another")),
            R"({"active":false})");
}

}  // namespace
}  // namespace portico::keymanager

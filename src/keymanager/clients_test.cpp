#include "keymanager/clients.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/api_error.h"

namespace portico::keymanager {
namespace {

class ClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portico-clients-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    db_ = store::Database::open((dir_ / "test.db").string(), 2);
    db_->migrate();
    // Long lookup and credential caches: what is tested is that local changes bypass them.
    clients_ =
        std::make_unique<Clients>(*db_, std::chrono::seconds(300), std::chrono::seconds(300));
  }
  void TearDown() override {
    clients_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  RegisteredClient register_confidential() {
    ClientRegistration r;
    r.name = "app";
    r.owner = "admin";
    r.grant_types = {"client_credentials"};
    return clients_->register_client(r);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<Clients> clients_;
};

TEST_F(ClientsTest, RegisteredSecretAuthenticatesAndAWrongOneDoesNot) {
  auto c = register_confidential();
  EXPECT_TRUE(clients_->authenticate(c.record.client_id, c.client_secret));
  EXPECT_FALSE(clients_->authenticate(c.record.client_id, c.client_secret + "x"));
  EXPECT_FALSE(clients_->authenticate(c.record.client_id, ""));
}

TEST_F(ClientsTest, SecretIsStoredOnlyAsAnArgon2idHash) {
  auto c = register_confidential();
  auto stored = clients_->find(c.record.client_id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->secret_hash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(stored->secret_hash.find(c.client_secret), std::string::npos);
}

TEST_F(ClientsTest, RegeneratedSecretReplacesTheOldOneAtOnce) {
  auto c = register_confidential();
  ASSERT_TRUE(clients_->authenticate(c.record.client_id, c.client_secret));  // now cached
  auto fresh = clients_->regenerate_secret(c.record.client_id);
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(clients_->authenticate(c.record.client_id, c.client_secret));
  EXPECT_TRUE(clients_->authenticate(c.record.client_id, *fresh));
}

TEST_F(ClientsTest, RemovedClientNoLongerAuthenticates) {
  auto c = register_confidential();
  ASSERT_TRUE(clients_->authenticate(c.record.client_id, c.client_secret));
  EXPECT_TRUE(clients_->remove(c.record.client_id));
  EXPECT_FALSE(clients_->authenticate(c.record.client_id, c.client_secret));
}

TEST_F(ClientsTest, ApplicationChangesReachTheClientAtOnce) {
  auto c = register_confidential();
  ASSERT_TRUE(clients_->find(c.record.client_id));  // now cached
  EXPECT_TRUE(clients_->update_application(c.record.client_id, "renamed", "Gold", "OAUTH"));
  auto client = clients_->find(c.record.client_id);
  EXPECT_EQ(client->application_name, "renamed");
  EXPECT_EQ(client->application_tier, "Gold");
  EXPECT_EQ(client->token_type, "OAUTH");
  EXPECT_FALSE(clients_->update_application("no-such-client", "x", "Gold", "JWT"));
}

TEST_F(ClientsTest, PublicClientAuthenticatesWithoutSecretOnly) {
  ClientRegistration r;
  r.name = "spa";
  r.owner = "admin";
  r.public_client = true;
  r.grant_types = {"authorization_code"};
  r.redirect_uris = {"https://spa.example/cb"};
  auto c = clients_->register_client(r);
  EXPECT_TRUE(c.client_secret.empty());
  EXPECT_TRUE(clients_->authenticate(c.record.client_id, ""));
  EXPECT_FALSE(clients_->authenticate(c.record.client_id, "guess"));
}

TEST_F(ClientsTest, InvalidRegistrationsAreRefused) {
  ClientRegistration r;
  r.name = "bad";
  r.owner = "admin";
  r.grant_types = {"implicit"};
  EXPECT_THROW(clients_->register_client(r), ApiError);
  r.grant_types = {"authorization_code"};  // needs a callback URL
  EXPECT_THROW(clients_->register_client(r), ApiError);
  r.redirect_uris = {"https://a.example/cb#fragment"};
  EXPECT_THROW(clients_->register_client(r), ApiError);
  r.public_client = true;
  r.grant_types = {"client_credentials"};
  r.redirect_uris = {};
  EXPECT_THROW(clients_->register_client(r), ApiError);
}

}  // namespace
}  // namespace portico::keymanager

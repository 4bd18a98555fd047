#include "keymanager/clients.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/api_error.h"
#include "common/bounded_pool.h"
#include "common/crypto.h"

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
    clients_ = std::make_unique<Clients>(*db_, std::chrono::seconds(300), std::chrono::seconds(300),
                                         pool_, throttle_);
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

  std::optional<store::ClientRecord> authenticate(const std::string& id,
                                                  const std::string& secret) {
    return clients_->authenticate(id, secret, "192.0.2.1");
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  BoundedPool pool_{1, 16};
  LoginThrottle throttle_{ThrottlePolicy{1000, 1000}};
  std::unique_ptr<Clients> clients_;
};

TEST_F(ClientsTest, RegisteredSecretAuthenticatesAndAWrongOneDoesNot) {
  auto c = register_confidential();
  EXPECT_TRUE(authenticate(c.record.client_id, c.client_secret));
  EXPECT_FALSE(authenticate(c.record.client_id, c.client_secret + "x"));
  EXPECT_FALSE(authenticate(c.record.client_id, ""));
}

TEST_F(ClientsTest, SecretIsStoredOnlyAsAKeyedHash) {
  auto c = register_confidential();
  auto stored = clients_->find(c.record.client_id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->secret_hash.rfind("$hmac-sha256$", 0), 0u);
  EXPECT_EQ(stored->secret_hash.find(c.client_secret), std::string::npos);
}

TEST_F(ClientsTest, TheKeyIsSharedThroughTheDatabase) {
  auto c = register_confidential();
  // Another node: its own Clients on the same database.
  Clients other(*db_, std::chrono::seconds(0), std::chrono::seconds(0), pool_, throttle_);
  EXPECT_TRUE(other.authenticate(c.record.client_id, c.client_secret, "192.0.2.1"));
}

TEST_F(ClientsTest, AnArgon2idSecretStillVerifiesAndIsRehashed) {
  auto c = register_confidential();
  store::ClientsRepository repository(*db_);
  auto record = *repository.find(c.record.client_id);
  record.secret_hash = crypto::hash_secret(c.client_secret);
  ASSERT_TRUE(repository.update(record));
  Clients fresh(*db_, std::chrono::seconds(0), std::chrono::seconds(0), pool_, throttle_);
  EXPECT_FALSE(fresh.authenticate(c.record.client_id, "wrong", "192.0.2.1"));
  EXPECT_TRUE(fresh.authenticate(c.record.client_id, c.client_secret, "192.0.2.1"));
  EXPECT_EQ(repository.find(c.record.client_id)->secret_hash.rfind("$hmac-sha256$", 0), 0u);
  EXPECT_TRUE(fresh.authenticate(c.record.client_id, c.client_secret, "192.0.2.1"));
}

TEST_F(ClientsTest, WrongSecretsLockTheClient) {
  auto c = register_confidential();
  LoginThrottle strict(ThrottlePolicy{2, 1000});
  Clients clients(*db_, std::chrono::seconds(0), std::chrono::seconds(0), pool_, strict);
  EXPECT_FALSE(clients.authenticate(c.record.client_id, "guess-1", "192.0.2.1"));
  EXPECT_FALSE(clients.authenticate(c.record.client_id, "guess-2", "192.0.2.1"));
  EXPECT_THROW(clients.authenticate(c.record.client_id, c.client_secret, "192.0.2.1"),
               AccountLocked);
}

TEST_F(ClientsTest, RegeneratedSecretReplacesTheOldOneAtOnce) {
  auto c = register_confidential();
  ASSERT_TRUE(authenticate(c.record.client_id, c.client_secret));  // now cached
  auto fresh = clients_->regenerate_secret(c.record.client_id);
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(authenticate(c.record.client_id, c.client_secret));
  EXPECT_TRUE(authenticate(c.record.client_id, *fresh));
}

TEST_F(ClientsTest, RemovedClientNoLongerAuthenticates) {
  auto c = register_confidential();
  ASSERT_TRUE(authenticate(c.record.client_id, c.client_secret));
  EXPECT_TRUE(clients_->remove(c.record.client_id));
  EXPECT_FALSE(authenticate(c.record.client_id, c.client_secret));
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
  EXPECT_TRUE(authenticate(c.record.client_id, ""));
  EXPECT_FALSE(authenticate(c.record.client_id, "guess"));
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

#include "store/clients_repository.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

ClientRecord full_client() {
  ClientRecord c;
  c.client_id = "cid-1";
  c.secret_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
  c.name = "Pizza Shack";
  c.owner = "alice";
  c.grant_types = {"authorization_code", "refresh_token", "client_credentials"};
  c.redirect_uris = {"https://app.example/cb", "http://localhost:8080/cb?x=1&y=2"};
  c.token_type = "OAUTH";
  c.public_client = true;
  c.application_id = "app-42";
  c.application_name = "PizzaApp";
  c.application_tier = "Unlimited";
  c.key_type = "SANDBOX";
  c.access_token_lifetime = 7200;
  c.created_at = 1700000000;
  return c;
}

void expect_same(const ClientRecord& a, const ClientRecord& b) {
  EXPECT_EQ(a.client_id, b.client_id);
  EXPECT_EQ(a.secret_hash, b.secret_hash);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.grant_types, b.grant_types);
  EXPECT_EQ(a.redirect_uris, b.redirect_uris);
  EXPECT_EQ(a.token_type, b.token_type);
  EXPECT_EQ(a.public_client, b.public_client);
  EXPECT_EQ(a.application_id, b.application_id);
  EXPECT_EQ(a.application_name, b.application_name);
  EXPECT_EQ(a.application_tier, b.application_tier);
  EXPECT_EQ(a.key_type, b.key_type);
  EXPECT_EQ(a.access_token_lifetime, b.access_token_lifetime);
  EXPECT_EQ(a.created_at, b.created_at);
}

class ClientsRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!IsSkipped()) clients_ = std::make_unique<ClientsRepository>(*db_);
  }
  std::unique_ptr<ClientsRepository> clients_;
};
PORTICO_STORE_BACKENDS(ClientsRepositoryTest);

TEST_P(ClientsRepositoryTest, CreatedClientRoundTripsEveryField) {
  clients_->create(full_client());
  auto found = clients_->find("cid-1");
  ASSERT_TRUE(found);
  expect_same(*found, full_client());
}

TEST_P(ClientsRepositoryTest, DefaultsAndEmptyListsRoundTrip) {
  ClientRecord c;
  c.client_id = "public-1";
  c.name = "SPA";
  c.owner = "bob";
  clients_->create(c);
  auto found = clients_->find("public-1");
  ASSERT_TRUE(found);
  expect_same(*found, c);
  EXPECT_TRUE(found->grant_types.empty());
  EXPECT_TRUE(found->secret_hash.empty());
  EXPECT_FALSE(found->public_client);
}

TEST_P(ClientsRepositoryTest, UnknownClientIsNotFound) {
  EXPECT_FALSE(clients_->find("nope"));
}

TEST_P(ClientsRepositoryTest, TakenClientIdIsConflict) {
  clients_->create(full_client());
  ClientRecord other = full_client();
  other.name = "Other";
  EXPECT_THROW(clients_->create(other), ConflictError);
  EXPECT_EQ(clients_->find("cid-1")->name, "Pizza Shack");
}

TEST_P(ClientsRepositoryTest, UpdateReplacesEveryFieldButIdAndCreationTime) {
  clients_->create(full_client());
  ClientRecord changed;
  changed.client_id = "cid-1";
  changed.secret_hash = "$argon2id$other";
  changed.name = "Pizza Shack 2";
  changed.owner = "carol";
  changed.grant_types = {"password"};
  changed.redirect_uris = {};
  changed.token_type = "JWT";
  changed.public_client = false;
  changed.application_id = "app-43";
  changed.application_name = "PizzaApp2";
  changed.application_tier = "Gold";
  changed.key_type = "PRODUCTION";
  changed.access_token_lifetime = 60;
  changed.created_at = 5;  // ignored
  ASSERT_TRUE(clients_->update(changed));

  auto found = clients_->find("cid-1");
  ASSERT_TRUE(found);
  ClientRecord expected = changed;
  expected.created_at = 1700000000;
  expect_same(*found, expected);
}

TEST_P(ClientsRepositoryTest, UpdateOfUnknownClientReturnsFalse) {
  EXPECT_FALSE(clients_->update(full_client()));
  EXPECT_FALSE(clients_->find("cid-1"));
}

TEST_P(ClientsRepositoryTest, RemoveDeletesTheClient) {
  clients_->create(full_client());
  EXPECT_TRUE(clients_->remove("cid-1"));
  EXPECT_FALSE(clients_->find("cid-1"));
  EXPECT_FALSE(clients_->remove("cid-1"));
}

TEST_P(ClientsRepositoryTest, ListEntryWithWhitespaceIsRejected) {
  ClientRecord c = full_client();
  c.redirect_uris = {"https://a.example/cb https://b.example/cb"};
  EXPECT_THROW(clients_->create(c), std::invalid_argument);
  c.redirect_uris = {""};
  EXPECT_THROW(clients_->create(c), std::invalid_argument);
  EXPECT_FALSE(clients_->find("cid-1"));
}

}  // namespace
}  // namespace portico::store

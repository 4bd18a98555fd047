#include "store/gateway_credentials_repository.h"

#include <gtest/gtest.h>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

class GatewayCredentialsRepositoryTest : public testing::StoreTest {};
PORTICO_STORE_BACKENDS(GatewayCredentialsRepositoryTest);

GatewayCredentialRecord credential(const std::string& id, const std::string& username) {
  return {id, username, "hash-" + id, "name-" + id, "cloud", 100};
}

TEST_P(GatewayCredentialsRepositoryTest, ACreatedCredentialIsFoundByIdAndUsername) {
  GatewayCredentialsRepository credentials(*db_);
  credentials.create(credential("c1", "gw-one"));
  auto by_id = credentials.find("c1");
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->username, "gw-one");
  EXPECT_EQ(by_id->secret_hash, "hash-c1");
  EXPECT_EQ(by_id->environment, "cloud");
  EXPECT_EQ(by_id->revoked_time, 0);
  auto by_username = credentials.find_by_username("gw-one");
  ASSERT_TRUE(by_username);
  EXPECT_EQ(by_username->id, "c1");
  EXPECT_FALSE(credentials.find("nope"));
  EXPECT_FALSE(credentials.find_by_username("gw-nope"));
}

TEST_P(GatewayCredentialsRepositoryTest, RevokingMarksItOnce) {
  GatewayCredentialsRepository credentials(*db_);
  credentials.create(credential("c1", "gw-one"));
  EXPECT_TRUE(credentials.revoke("c1", 200));
  EXPECT_FALSE(credentials.revoke("c1", 300));
  EXPECT_FALSE(credentials.revoke("unknown", 300));
  EXPECT_EQ(credentials.find("c1")->revoked_time, 200);
}

TEST_P(GatewayCredentialsRepositoryTest, ListHoldsLiveAndRevokedInCreationOrder) {
  GatewayCredentialsRepository credentials(*db_);
  auto first = credential("b", "gw-b");
  auto second = credential("a", "gw-a");
  second.created_time = 101;
  credentials.create(first);
  credentials.create(second);
  credentials.revoke("b", 200);
  auto list = credentials.list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, "b");
  EXPECT_EQ(list[0].revoked_time, 200);
  EXPECT_EQ(list[1].id, "a");
  EXPECT_EQ(list[1].revoked_time, 0);
}

}  // namespace
}  // namespace portico::store

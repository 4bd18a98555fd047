#include "store/cluster_secrets_repository.h"

#include <gtest/gtest.h>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

class ClusterSecretsRepositoryTest : public testing::StoreTest {};
PORTICO_STORE_BACKENDS(ClusterSecretsRepositoryTest);

TEST_P(ClusterSecretsRepositoryTest, TheFirstValueWrittenIsTheOneEveryNodeGets) {
  ClusterSecretsRepository secrets(*db_);
  EXPECT_EQ(secrets.get_or_create("hmac", "first", 1), "first");
  EXPECT_EQ(secrets.get_or_create("hmac", "second", 2), "first");
  EXPECT_EQ(secrets.get_or_create("other", "third", 3), "third");
}

}  // namespace
}  // namespace portico::store

#include "store/subscriptions_repository.h"

#include <gtest/gtest.h>

#include "store/applications_repository.h"
#include "store/devportal_test_support.h"
#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

class SubscriptionsRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    repo_ = std::make_unique<SubscriptionsRepository>(*db_);
    ApplicationsRepository apps(*db_);
    apps.create({"a-1", "one", "alice", "Unlimited", "JWT", "APPROVED", "{}", 1, 1});
    apps.create({"a-2", "two", "alice", "Unlimited", "JWT", "APPROVED", "{}", 1, 1});
    apps.create({"b-1", "one", "bob", "Unlimited", "JWT", "APPROVED", "{}", 1, 1});
    testing::insert_api(*db_, "api-1", "pets", "PUBLISHED");
    testing::insert_api(*db_, "api-2", "stores", "PUBLISHED");
  }
  static SubscriptionRecord sub(const std::string& id, const std::string& app,
                                const std::string& api, std::int64_t at = 1) {
    return {id, app, api, "Gold", "UNBLOCKED", at, at};
  }
  std::unique_ptr<SubscriptionsRepository> repo_;
};
PORTICO_STORE_BACKENDS(SubscriptionsRepositoryTest);

TEST_P(SubscriptionsRepositoryTest, CreatedSubscriptionIsFound) {
  repo_->create(sub("s-1", "a-1", "api-1"));
  auto found = repo_->find("s-1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->application_id, "a-1");
  EXPECT_EQ(found->api_id, "api-1");
  EXPECT_EQ(found->throttling_policy, "Gold");
  EXPECT_EQ(found->status, "UNBLOCKED");
}

TEST_P(SubscriptionsRepositoryTest, OneSubscriptionPerApplicationAndApi) {
  repo_->create(sub("s-1", "a-1", "api-1"));
  EXPECT_THROW(repo_->create(sub("s-2", "a-1", "api-1")), ConflictError);
  EXPECT_NO_THROW(repo_->create(sub("s-3", "a-2", "api-1")));
}

TEST_P(SubscriptionsRepositoryTest, BatchWithADuplicateStoresNothing) {
  repo_->create(sub("s-1", "a-1", "api-1"));
  EXPECT_THROW(repo_->create_all({sub("s-2", "a-2", "api-1"), sub("s-3", "a-1", "api-1")}),
               ConflictError);
  EXPECT_FALSE(repo_->find("s-2"));
  EXPECT_EQ(repo_->count({}), 1);
}

TEST_P(SubscriptionsRepositoryTest, ListFiltersByApplicationApiAndOwner) {
  repo_->create(sub("s-1", "a-1", "api-1", 1));
  repo_->create(sub("s-2", "a-1", "api-2", 2));
  repo_->create(sub("s-3", "a-2", "api-1", 3));
  repo_->create(sub("s-4", "b-1", "api-1", 4));
  EXPECT_EQ(repo_->count({"a-1", "", ""}), 2);
  EXPECT_EQ(repo_->count({"", "api-1", "alice"}), 2);
  EXPECT_EQ(repo_->count({"", "", "bob"}), 1);
  EXPECT_EQ(repo_->count({}), 4);
  auto page = repo_->list({"", "", "alice"}, 2, 1);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, "s-2");
  EXPECT_EQ(page[1].id, "s-3");
}

TEST_P(SubscriptionsRepositoryTest, UpdateAndRemove) {
  repo_->create(sub("s-1", "a-1", "api-1"));
  auto s = sub("s-1", "a-1", "api-1");
  s.throttling_policy = "Bronze";
  s.status = "BLOCKED";
  EXPECT_TRUE(repo_->update(s));
  EXPECT_EQ(repo_->find("s-1")->throttling_policy, "Bronze");
  EXPECT_EQ(repo_->find("s-1")->status, "BLOCKED");
  EXPECT_TRUE(repo_->remove("s-1"));
  EXPECT_FALSE(repo_->remove("s-1"));
  EXPECT_FALSE(repo_->update(s));
}

}  // namespace
}  // namespace portico::store

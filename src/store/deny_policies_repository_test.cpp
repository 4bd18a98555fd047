#include "store/deny_policies_repository.h"

#include <gtest/gtest.h>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

class DenyPoliciesRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!IsSkipped()) deny_ = std::make_unique<DenyPoliciesRepository>(*db_);
  }
  std::unique_ptr<DenyPoliciesRepository> deny_;
};
PORTICO_STORE_BACKENDS(DenyPoliciesRepositoryTest);

TEST_P(DenyPoliciesRepositoryTest, CreateFindEnableDisableRemove) {
  deny_->create({"d-1", "IP", R"({"fixedIp":"10.0.0.1","invert":false})", true, 1700000000});
  auto found = deny_->find("d-1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->condition_type, "IP");
  EXPECT_EQ(found->condition_value, R"({"fixedIp":"10.0.0.1","invert":false})");
  EXPECT_TRUE(found->enabled);
  EXPECT_EQ(found->created_time, 1700000000);

  EXPECT_TRUE(deny_->set_enabled("d-1", false));
  EXPECT_FALSE(deny_->find("d-1")->enabled);
  EXPECT_FALSE(deny_->set_enabled("d-404", false));

  EXPECT_TRUE(deny_->remove("d-1"));
  EXPECT_FALSE(deny_->remove("d-1"));
  EXPECT_FALSE(deny_->find("d-1"));
}

TEST_P(DenyPoliciesRepositoryTest, SameConditionTwiceIsConflict) {
  deny_->create({"d-1", "USER", R"("mallory")", true, 1});
  EXPECT_THROW(deny_->create({"d-2", "USER", R"("mallory")", false, 2}), ConflictError);
  deny_->create({"d-3", "APPLICATION", R"("mallory")", true, 3});
  EXPECT_EQ(deny_->list().size(), 2u);
}

TEST_P(DenyPoliciesRepositoryTest, ListsOldestFirstAndPagesById) {
  deny_->create({"b", "USER", R"("u2")", true, 2});
  deny_->create({"a", "USER", R"("u1")", false, 3});
  deny_->create({"c", "USER", R"("u3")", true, 1});
  auto all = deny_->list();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, "c");
  EXPECT_EQ(all[2].id, "a");
  EXPECT_FALSE(all[2].enabled);
  auto page = deny_->list_after("a", 1);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].id, "b");
}

}  // namespace
}  // namespace portico::store

#include "store/throttling_policies_repository.h"

#include <gtest/gtest.h>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

ThrottlingPolicyRecord policy(const std::string& id, const std::string& level,
                              const std::string& name) {
  return {id, level, name, R"({"policyName":")" + name + R"("})", 1700000000};
}

class ThrottlingPoliciesRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!IsSkipped()) policies_ = std::make_unique<ThrottlingPoliciesRepository>(*db_);
  }
  void exec(const std::string& statement) {
    db_->with_session([&](soci::session& sql) { sql << statement; });
  }
  // An API (with `document`), an application on `app_policy` and a subscription on
  // `sub_policy`, as the publisher and developer portal would store them.
  void insert_usage(const std::string& document, const std::string& app_policy,
                    const std::string& sub_policy, const std::string& offered) {
    exec(
        "INSERT INTO apis (id, name, version, context, provider, lifecycle_status, visibility, "
        "is_default_version, description, document, openapi, thumbnail_type, thumbnail, "
        "created_time, updated_time) VALUES ('api-1', 'Pets', '1.0.0', '/pets', 'admin', "
        "'PUBLISHED', 'PUBLIC', 1, '', '" +
        document + "', '', '', '', 1, 1)");
    exec("INSERT INTO api_subscription_policies (api_id, policy) VALUES ('api-1', '" + offered +
         "')");
    exec(
        "INSERT INTO applications (id, name, owner, throttling_policy, token_type, status, "
        "document, created_time, updated_time) VALUES ('app-1', 'App', 'alice', '" +
        app_policy + "', 'JWT', 'APPROVED', '{}', 1, 1)");
    exec(
        "INSERT INTO subscriptions (id, application_id, api_id, throttling_policy, status, "
        "created_time, updated_time) VALUES ('sub-1', 'app-1', 'api-1', '" +
        sub_policy + "', 'UNBLOCKED', 1, 1)");
  }
  std::unique_ptr<ThrottlingPoliciesRepository> policies_;
};
PORTICO_STORE_BACKENDS(ThrottlingPoliciesRepositoryTest);

TEST_P(ThrottlingPoliciesRepositoryTest, CreatedPolicyIsFoundByIdAndNameWithinItsLevel) {
  policies_->create(policy("p-1", "subscription", "Gold"));
  auto by_id = policies_->find("subscription", "p-1");
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->name, "Gold");
  EXPECT_EQ(by_id->document, R"({"policyName":"Gold"})");
  EXPECT_EQ(by_id->created_time, 1700000000);
  EXPECT_TRUE(policies_->find_by_name("subscription", "Gold"));
  EXPECT_FALSE(policies_->find("application", "p-1"));
  EXPECT_FALSE(policies_->find_by_name("application", "Gold"));
}

TEST_P(ThrottlingPoliciesRepositoryTest, NameIsUniquePerLevelOnly) {
  policies_->create(policy("p-1", "subscription", "Unlimited"));
  EXPECT_THROW(policies_->create(policy("p-2", "subscription", "Unlimited")), ConflictError);
  policies_->create(policy("p-3", "application", "Unlimited"));
  EXPECT_EQ(policies_->list("subscription").size(), 1u);
  EXPECT_EQ(policies_->list("application").size(), 1u);
}

TEST_P(ThrottlingPoliciesRepositoryTest, CreateMissingSkipsExistingNames) {
  policies_->create(policy("p-1", "advanced", "10KPerMin"));
  int created = policies_->create_missing(
      {policy("p-2", "advanced", "10KPerMin"), policy("p-3", "advanced", "Unlimited")});
  EXPECT_EQ(created, 1);
  auto list = policies_->list("advanced");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "10KPerMin");
  EXPECT_EQ(list[1].name, "Unlimited");
}

TEST_P(ThrottlingPoliciesRepositoryTest, ListAfterPagesInIdOrder) {
  for (const char* id : {"c", "a", "e", "b", "d"})
    policies_->create(policy(id, "application", std::string("n") + id));
  policies_->create(policy("z", "subscription", "other"));
  auto first = policies_->list_after("application", "", 2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].id, "a");
  EXPECT_EQ(first[1].id, "b");
  auto rest = policies_->list_after("application", "b", 10);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[2].id, "e");
  EXPECT_TRUE(policies_->list_after("application", "e", 10).empty());
}

TEST_P(ThrottlingPoliciesRepositoryTest, UpdateReplacesDocument) {
  policies_->create(policy("p-1", "application", "10PerMin"));
  auto changed = policy("p-1", "application", "10PerMin");
  changed.document = R"({"changed":true})";
  EXPECT_TRUE(policies_->update(changed));
  EXPECT_EQ(policies_->find("application", "p-1")->document, R"({"changed":true})");
  changed.id = "p-404";
  EXPECT_FALSE(policies_->update(changed));
}

TEST_P(ThrottlingPoliciesRepositoryTest, PoliciesInUseAreNotRemoved) {
  policies_->create(policy("s-gold", "subscription", "Gold"));
  policies_->create(policy("s-silver", "subscription", "Silver"));
  policies_->create(policy("s-bronze", "subscription", "Bronze"));
  policies_->create(policy("a-10", "application", "10PerMin"));
  policies_->create(policy("a-20", "application", "20PerMin"));
  policies_->create(policy("v-10k", "advanced", "10KPerMin"));
  policies_->create(policy("v-20k", "advanced", "20KPerMin"));
  policies_->create(policy("v-50k", "advanced", "50KPerMin"));
  insert_usage(R"({"apiThrottlingPolicy":"10KPerMin","operations":[{"target":"/x",)"
               R"("throttlingPolicy": "20KPerMin"}]})",
               "10PerMin", "Gold", "Silver");

  EXPECT_EQ(policies_->remove_unless_used("subscription", "s-gold"), PolicyRemoval::in_use);
  EXPECT_EQ(policies_->remove_unless_used("subscription", "s-silver"), PolicyRemoval::in_use);
  EXPECT_EQ(policies_->remove_unless_used("subscription", "s-bronze"), PolicyRemoval::removed);
  EXPECT_EQ(policies_->remove_unless_used("application", "a-10"), PolicyRemoval::in_use);
  EXPECT_EQ(policies_->remove_unless_used("application", "a-20"), PolicyRemoval::removed);
  EXPECT_EQ(policies_->remove_unless_used("advanced", "v-10k"), PolicyRemoval::in_use);
  EXPECT_EQ(policies_->remove_unless_used("advanced", "v-20k"), PolicyRemoval::in_use);
  EXPECT_EQ(policies_->remove_unless_used("advanced", "v-50k"), PolicyRemoval::removed);
  EXPECT_EQ(policies_->remove_unless_used("advanced", "v-50k"), PolicyRemoval::not_found);
  EXPECT_TRUE(policies_->find("subscription", "s-gold"));
  EXPECT_FALSE(policies_->find("subscription", "s-bronze"));
}

}  // namespace
}  // namespace portico::store

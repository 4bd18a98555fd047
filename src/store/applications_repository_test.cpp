#include "store/applications_repository.h"

#include <gtest/gtest.h>

#include "store/devportal_test_support.h"
#include "store/store_test_fixture.h"
#include "store/subscriptions_repository.h"

namespace portico::store {
namespace {

ApplicationRecord app(const std::string& id, const std::string& name, const std::string& owner) {
  ApplicationRecord a;
  a.id = id;
  a.name = name;
  a.owner = owner;
  a.throttling_policy = "Unlimited";
  a.document = R"({"description":"d"})";
  a.created_time = a.updated_time = 1700000000;
  return a;
}

class ApplicationsRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!IsSkipped()) repo_ = std::make_unique<ApplicationsRepository>(*db_);
  }
  std::unique_ptr<ApplicationsRepository> repo_;
};
PORTICO_STORE_BACKENDS(ApplicationsRepositoryTest);

TEST_P(ApplicationsRepositoryTest, CreatedApplicationIsFoundWithEveryField) {
  repo_->create(app("a-1", "Weather", "alice"));
  auto found = repo_->find("a-1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "Weather");
  EXPECT_EQ(found->owner, "alice");
  EXPECT_EQ(found->throttling_policy, "Unlimited");
  EXPECT_EQ(found->token_type, "JWT");
  EXPECT_EQ(found->document, R"({"description":"d"})");
  EXPECT_EQ(found->created_time, 1700000000);
}

TEST_P(ApplicationsRepositoryTest, AnotherOwnersApplicationIsNotFoundForThem) {
  repo_->create(app("a-1", "Weather", "alice"));
  EXPECT_TRUE(repo_->find_owned("a-1", "alice"));
  EXPECT_FALSE(repo_->find_owned("a-1", "bob"));
}

TEST_P(ApplicationsRepositoryTest, NameIsUniquePerOwnerOnly) {
  repo_->create(app("a-1", "Weather", "alice"));
  EXPECT_THROW(repo_->create(app("a-2", "Weather", "alice")), ConflictError);
  EXPECT_NO_THROW(repo_->create(app("a-3", "Weather", "bob")));
  EXPECT_EQ(repo_->count_owned("alice", ""), 1);
}

TEST_P(ApplicationsRepositoryTest, ListIsOneOwnersPageByNameWithSubstringFilter) {
  repo_->create(app("a-1", "zeta", "alice"));
  repo_->create(app("a-2", "alpha", "alice"));
  repo_->create(app("a-3", "alphabet", "alice"));
  repo_->create(app("a-4", "alpha", "bob"));
  auto page = repo_->list_owned("alice", "", 2, 0);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].name, "alpha");
  EXPECT_EQ(page[1].name, "alphabet");
  EXPECT_EQ(repo_->list_owned("alice", "", 2, 2).size(), 1u);
  EXPECT_EQ(repo_->count_owned("alice", "alph"), 2);
  EXPECT_EQ(repo_->count_owned("alice", "%"), 0);  // wildcards are literal
}

TEST_P(ApplicationsRepositoryTest, UpdateRenamesButNotOntoATakenName) {
  repo_->create(app("a-1", "one", "alice"));
  repo_->create(app("a-2", "two", "alice"));
  auto a = app("a-1", "uno", "alice");
  a.throttling_policy = "10PerMin";
  EXPECT_TRUE(repo_->update(a));
  EXPECT_EQ(repo_->find("a-1")->throttling_policy, "10PerMin");
  a.name = "two";
  EXPECT_THROW(repo_->update(a), ConflictError);
  EXPECT_EQ(repo_->find("a-1")->name, "uno");
  EXPECT_FALSE(repo_->update(app("a-404", "x", "alice")));
}

TEST_P(ApplicationsRepositoryTest, OneKeyMappingPerKeyType) {
  repo_->create(app("a-1", "one", "alice"));
  repo_->add_key_mapping({"k-1", "a-1", "PRODUCTION", "client-1", "{}", 1});
  EXPECT_THROW(repo_->add_key_mapping({"k-2", "a-1", "PRODUCTION", "client-2", "{}", 1}),
               ConflictError);
  repo_->add_key_mapping({"k-3", "a-1", "SANDBOX", "client-3", "{}", 1});
  auto mappings = repo_->key_mappings("a-1");
  ASSERT_EQ(mappings.size(), 2u);
  EXPECT_EQ(mappings[0].key_type, "PRODUCTION");
  EXPECT_EQ(mappings[0].client_id, "client-1");
  EXPECT_TRUE(repo_->find_key_mapping("a-1", "k-3"));
  EXPECT_FALSE(repo_->find_key_mapping("a-2", "k-3"));
  EXPECT_TRUE(repo_->remove_key_mapping("k-3"));
  EXPECT_EQ(repo_->key_mappings("a-1").size(), 1u);
}

TEST_P(ApplicationsRepositoryTest, RemoveTakesKeyMappingsAndSubscriptionsAlong) {
  testing::insert_api(*db_, "api-1", "pets", "PUBLISHED");
  repo_->create(app("a-1", "one", "alice"));
  repo_->add_key_mapping({"k-1", "a-1", "PRODUCTION", "client-1", "{}", 1});
  SubscriptionsRepository subs(*db_);
  subs.create({"s-1", "a-1", "api-1", "Gold", "UNBLOCKED", 1, 1});
  EXPECT_TRUE(repo_->remove("a-1"));
  EXPECT_FALSE(repo_->find("a-1"));
  EXPECT_TRUE(repo_->key_mappings("a-1").empty());
  EXPECT_FALSE(subs.find("s-1"));
  EXPECT_FALSE(repo_->remove("a-1"));
}

}  // namespace
}  // namespace portico::store

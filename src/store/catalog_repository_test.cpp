#include "store/catalog_repository.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "store/api_feedback_repository.h"
#include "store/devportal_test_support.h"
#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

class CatalogRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    catalog_ = std::make_unique<CatalogRepository>(*db_);
    testing::insert_api(*db_, "api-1", "PetStore", "PUBLISHED", "PUBLIC", "All about pets");
    testing::insert_api(*db_, "api-2", "Weather", "CREATED");
    testing::insert_api(*db_, "api-3", "Stocks", "DEPRECATED", "RESTRICTED", "Markets 100%");
    testing::insert_api_row(*db_, "api_tags", "api-1", "tag", "animals");
    testing::insert_api_row(*db_, "api_tags", "api-3", "tag", "finance");
    testing::insert_api_row(*db_, "api_subscription_policies", "api-1", "policy", "Gold");
    testing::insert_api_row(*db_, "api_subscription_policies", "api-1", "policy", "Bronze");
  }
  std::vector<std::string> names(CatalogSearch search) {
    if (search.statuses.empty()) search.statuses = {"PUBLISHED", "PROTOTYPED", "DEPRECATED"};
    std::vector<std::string> out;
    for (const auto& api : catalog_->search(search)) out.push_back(api.name);
    return out;
  }
  std::unique_ptr<CatalogRepository> catalog_;
};
PORTICO_STORE_BACKENDS(CatalogRepositoryTest);

using Names = std::vector<std::string>;

TEST_P(CatalogRepositoryTest, SearchKeepsOnlyTheGivenStatesByName) {
  EXPECT_EQ(names({}), (Names{"PetStore", "Stocks"}));
  CatalogSearch created;
  created.statuses = {"CREATED"};
  EXPECT_EQ(names(created), (Names{"Weather"}));
}

TEST_P(CatalogRepositoryTest, SearchByNameTagAndTextIsCaseInsensitive) {
  CatalogSearch by_name;
  by_name.name = "petst";
  EXPECT_EQ(names(by_name), (Names{"PetStore"}));
  CatalogSearch by_tag;
  by_tag.tag = "finance";
  EXPECT_EQ(names(by_tag), (Names{"Stocks"}));
  CatalogSearch by_text;
  by_text.text = "PETS";
  EXPECT_EQ(names(by_text), (Names{"PetStore"}));
  CatalogSearch wildcard;
  wildcard.text = "%";
  EXPECT_EQ(names(wildcard), (Names{"Stocks"}));  // "100%": a literal percent sign
}

TEST_P(CatalogRepositoryTest, PageAndCountWithAVisibilityFilter) {
  CatalogSearch search;
  search.statuses = {"PUBLISHED", "PROTOTYPED", "DEPRECATED"};
  EXPECT_EQ(catalog_->count(search), 2);
  auto second = catalog_->search_page(search, 1, 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].name, "Stocks");
  search.visibilities = {"PUBLIC"};
  EXPECT_EQ(catalog_->count(search), 1);
  EXPECT_EQ(catalog_->search_page(search, 10, 0).front().name, "PetStore");
  search.statuses.clear();
  EXPECT_EQ(catalog_->count(search), 0);
}

TEST_P(CatalogRepositoryTest, FindTagsPoliciesAndNoThumbnail) {
  auto api = catalog_->find("api-1");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->context, "/PetStore");
  EXPECT_EQ(api->lifecycle_status, "PUBLISHED");
  EXPECT_EQ(catalog_->tags("api-1"), (Names{"animals"}));
  EXPECT_EQ(catalog_->subscription_policies("api-1"), (Names{"Bronze", "Gold"}));
  EXPECT_FALSE(catalog_->thumbnail("api-1"));
  EXPECT_FALSE(api->has_thumbnail);
  EXPECT_FALSE(catalog_->openapi("api-1"));
  EXPECT_TRUE(catalog_->deployments("api-1").empty());
  EXPECT_TRUE(catalog_->documents("api-1").empty());
  EXPECT_EQ(catalog_->all_tags().size(), 2u);
  EXPECT_FALSE(catalog_->find("api-404"));
}

TEST_P(CatalogRepositoryTest, PoliciesAndRatingsOfAPageInOneCallEach) {
  using Policies = std::map<std::string, std::vector<std::string>>;
  EXPECT_EQ(catalog_->subscription_policies_of({"api-1", "api-2", "api-404"}),
            (Policies{{"api-1", {"Bronze", "Gold"}}}));
  EXPECT_TRUE(catalog_->subscription_policies_of({}).empty());
  Names found;
  for (const auto& api : catalog_->find_all({"api-3", "api-404", "api-1"}))
    found.push_back(api.name);
  EXPECT_EQ(found, (Names{"PetStore", "Stocks"}));
  EXPECT_TRUE(catalog_->find_all({}).empty());
  ApiFeedbackRepository feedback(*db_);
  feedback.put_rating({"api-1", "alice", 5});
  feedback.put_rating({"api-1", "bob", 2});
  feedback.put_rating({"api-3", "bob", 4});
  auto summaries = feedback.rating_summaries({"api-1", "api-2", "api-3"});
  ASSERT_EQ(summaries.size(), 2u);
  EXPECT_EQ(summaries["api-1"], feedback.rating_summary("api-1"));
  EXPECT_EQ(summaries["api-3"], feedback.rating_summary("api-3"));
  EXPECT_TRUE(feedback.rating_summaries({}).empty());
}

TEST_P(CatalogRepositoryTest, PagesFollowTheSearchOrder) {
  testing::insert_api(*db_, "api-4", "Atlas", "PUBLISHED");
  testing::insert_api(*db_, "api-5", "Zebra", "PROTOTYPED");
  CatalogSearch search;
  search.statuses = {"PUBLISHED", "PROTOTYPED", "DEPRECATED"};
  Names all;
  for (const auto& api : catalog_->search(search)) all.push_back(api.name);
  EXPECT_EQ(all, (Names{"Atlas", "PetStore", "Stocks", "Zebra"}));
  for (std::int64_t offset = 0; offset < 5; ++offset) {
    Names page;
    for (const auto& api : catalog_->search_page(search, 2, offset)) page.push_back(api.name);
    Names expected(all.begin() + std::min<std::int64_t>(offset, 4),
                   all.begin() + std::min<std::int64_t>(offset + 2, 4));
    EXPECT_EQ(page, expected) << "offset " << offset;
  }
}

TEST_P(CatalogRepositoryTest, RatingsOnePerUserWithAverage) {
  ApiFeedbackRepository feedback(*db_);
  feedback.put_rating({"api-1", "alice", 5});
  feedback.put_rating({"api-1", "alice", 4});
  feedback.put_rating({"api-1", "bob", 1});
  auto [count, average] = feedback.rating_summary("api-1");
  EXPECT_EQ(count, 2);
  EXPECT_DOUBLE_EQ(average, 2.5);
  EXPECT_EQ(feedback.find_rating("api-1", "alice")->rating, 4);
  EXPECT_EQ(feedback.ratings("api-1", 10, 0).size(), 2u);
  EXPECT_TRUE(feedback.remove_rating("api-1", "alice"));
  EXPECT_FALSE(feedback.find_rating("api-1", "alice"));
  EXPECT_EQ(feedback.rating_summary("api-2").first, 0);
}

TEST_P(CatalogRepositoryTest, CommentsNewestFirst) {
  ApiFeedbackRepository feedback(*db_);
  feedback.add_comment({"c-1", "api-1", "alice", "first", 1});
  feedback.add_comment({"c-2", "api-1", "bob", "second", 2});
  auto list = feedback.comments("api-1", 10, 0);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].content, "second");
  EXPECT_EQ(feedback.count_comments("api-1"), 2);
  EXPECT_TRUE(feedback.find_comment("api-1", "c-1"));
  EXPECT_FALSE(feedback.find_comment("api-2", "c-1"));
  EXPECT_TRUE(feedback.remove_comment("c-1"));
  EXPECT_EQ(feedback.count_comments("api-1"), 1);
}

}  // namespace
}  // namespace portico::store

#include "store/apis_repository.h"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <algorithm>

#include "store/api_documents_repository.h"
#include "store/api_revisions_repository.h"
#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

ApiRecord api(std::string id, std::string name, std::string version, std::string context) {
  ApiRecord a;
  a.id = std::move(id);
  a.name = std::move(name);
  a.version = std::move(version);
  a.context = std::move(context);
  a.provider = "alice";
  a.lifecycle_status = "CREATED";
  a.visibility = "PUBLIC";
  a.description = "Pizza ordering";
  a.document = R"({"id":"x"})";
  a.openapi = "{}";
  a.tags = {"food", "pizza"};
  a.policies = {"Gold", "Bronze"};
  a.created_time = 1700000000;
  a.updated_time = 1700000000;
  return a;
}

class ApisRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    apis_ = std::make_unique<ApisRepository>(*db_);
    revisions_ = std::make_unique<ApiRevisionsRepository>(*db_);
    documents_ = std::make_unique<ApiDocumentsRepository>(*db_);
  }

  void add_subscription(const std::string& id, const std::string& api_id) {
    db_->with_session([&](soci::session& sql) {
      std::string app = "app-" + id;
      sql << "INSERT INTO applications (id, name, owner, throttling_policy, token_type, status, "
             "document, created_time, updated_time) VALUES (:id, :name, 'dev', '10PerMin', "
             "'JWT', 'APPROVED', '{\"description\":\"d\"}', 1, 1)",
          soci::use(app), soci::use(app);
      sql << "INSERT INTO subscriptions (id, application_id, api_id, throttling_policy, status, "
             "created_time, updated_time) VALUES (:id, :app, :api, 'Gold', 'UNBLOCKED', 1, 1)",
          soci::use(id), soci::use(app), soci::use(api_id);
    });
  }

  std::unique_ptr<ApisRepository> apis_;
  std::unique_ptr<ApiRevisionsRepository> revisions_;
  std::unique_ptr<ApiDocumentsRepository> documents_;
};
PORTICO_STORE_BACKENDS(ApisRepositoryTest);

TEST_P(ApisRepositoryTest, CreatedApiRoundTripsWithTagsAndTiers) {
  ApiRecord a = api("a1", "Pizza", "1.0", "/pizza");
  a.is_default_version = true;
  apis_->create(a);
  auto found = apis_->find("a1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "Pizza");
  EXPECT_EQ(found->context, "/pizza");
  EXPECT_TRUE(found->is_default_version);
  EXPECT_EQ(found->document, a.document);
  EXPECT_EQ(found->openapi, "{}");
  EXPECT_EQ(found->tags, (std::vector<std::string>{"food", "pizza"}));
  EXPECT_EQ(found->policies, (std::vector<std::string>{"Bronze", "Gold"}));
  EXPECT_FALSE(apis_->find("missing"));
}

TEST_P(ApisRepositoryTest, NameOrContextAndVersionAreUnique) {
  apis_->create(api("a1", "Pizza", "1.0", "/pizza"));
  EXPECT_THROW(apis_->create(api("a2", "Pizza", "1.0", "/other")), ConflictError);
  EXPECT_THROW(apis_->create(api("a3", "Other", "1.0", "/pizza")), ConflictError);
  // Another API may not take the context even in another version.
  EXPECT_THROW(apis_->create(api("a4", "Other", "2.0", "/pizza")), ConflictError);
  apis_->create(api("a5", "Pizza", "2.0", "/pizza"));
  EXPECT_EQ(apis_->versions_of("Pizza").size(), 2u);
}

TEST_P(ApisRepositoryTest, UpdateReplacesColumnsTagsAndTiers) {
  apis_->create(api("a1", "Pizza", "1.0", "/pizza"));
  ApiRecord a = api("a1", "Pizza", "1.0", "/pizza");
  a.description = "new";
  a.tags = {"x"};
  a.policies = {};
  a.updated_time = 1800000000;
  EXPECT_TRUE(apis_->update(a));
  auto found = apis_->find("a1");
  EXPECT_EQ(found->description, "new");
  EXPECT_EQ(found->tags, std::vector<std::string>{"x"});
  EXPECT_TRUE(found->policies.empty());
  EXPECT_EQ(found->created_time, 1700000000);
  EXPECT_EQ(found->updated_time, 1800000000);
  a.id = "missing";
  EXPECT_FALSE(apis_->update(a));
}

TEST_P(ApisRepositoryTest, ConditionalWritesRefuseAStaleRead) {
  ApiRecord a = api("a1", "Pizza", "1.0", "/pizza");
  apis_->create(a);
  ApiRecord first = a;
  first.document = R"({"edit":1})";
  EXPECT_TRUE(apis_->update(first, a.document));
  // A second writer that read before the first wrote would undo it: refused.
  ApiRecord second = a;
  second.document = R"({"edit":2})";
  EXPECT_FALSE(apis_->update(second, a.document));
  EXPECT_FALSE(apis_->set_thumbnail("a1", "image/png", "x", "{}", a.document));
  LifecycleChange stale{
      "a1",      "CREATED", "PUBLISHED", "{}", {"h1", "a1", "CREATED", "PUBLISHED", "alice", 1},
      a.document};
  EXPECT_FALSE(apis_->change_lifecycle({stale}));
  EXPECT_EQ(apis_->find("a1")->document, R"({"edit":1})");
  EXPECT_TRUE(apis_->update(second, first.document));
}

TEST_P(ApisRepositoryTest, SearchFiltersPagesAndSorts) {
  ApiRecord pizza = api("a1", "PizzaShack", "1.0", "/pizza");
  ApiRecord pets = api("a2", "Petstore", "1.0", "/pets");
  pets.description = "All about 100%_cats";
  pets.tags = {"animals"};
  pets.lifecycle_status = "PUBLISHED";
  pets.provider = "bob";
  pets.created_time = 1700000100;
  ApiRecord pizza2 = api("a3", "PizzaShack", "2.0", "/pizza");
  pizza2.created_time = 1700000200;
  apis_->create(pizza);
  apis_->create(pets);
  apis_->create(pizza2);

  auto ids = [](const ApiPage& p) {
    std::vector<std::string> out;
    for (auto& i : p.items) out.push_back(i.id);
    return out;
  };
  ApiQuery q;
  EXPECT_EQ(apis_->search(q).total, 3);
  q.name = "pizza";
  EXPECT_EQ(ids(apis_->search(q)), (std::vector<std::string>{"a1", "a3"}));
  q = {};
  q.status = "PUBLISHED";
  EXPECT_EQ(ids(apis_->search(q)), std::vector<std::string>{"a2"});
  q = {};
  q.tag = "ANIMALS";
  EXPECT_EQ(ids(apis_->search(q)), std::vector<std::string>{"a2"});
  q = {};
  q.provider = "bob";
  EXPECT_EQ(ids(apis_->search(q)), std::vector<std::string>{"a2"});
  q = {};
  q.text = "100%_c";  // LIKE wildcards in the input match only themselves
  EXPECT_EQ(ids(apis_->search(q)), std::vector<std::string>{"a2"});
  q.text = "100%%";
  EXPECT_TRUE(apis_->search(q).items.empty());
  q = {};
  q.sort_by = "createdTime";
  q.descending = true;
  q.limit = 2;
  ApiPage page = apis_->search(q);
  EXPECT_EQ(page.total, 3);
  EXPECT_EQ(ids(page), (std::vector<std::string>{"a3", "a2"}));
  q.offset = 2;
  EXPECT_EQ(ids(apis_->search(q)), std::vector<std::string>{"a1"});
  EXPECT_EQ(apis_->search(q).items[0].document, R"({"id":"x"})");
}

TEST_P(ApisRepositoryTest, RemoveIsRefusedWhileSubscribedAndTakesDependentsWithIt) {
  apis_->create(api("a1", "Pizza", "1.0", "/pizza"));
  apis_->create(api("a2", "Pets", "1.0", "/pets"));
  add_subscription("s1", "a1");
  EXPECT_EQ(apis_->remove("a1"), RemoveResult::has_subscriptions);
  EXPECT_TRUE(apis_->find("a1"));
  ApiRevisionRecord rev;
  rev.id = "r1";
  rev.api_id = "a2";
  ASSERT_EQ(revisions_->create(rev, 5), RevisionCreateResult::created);
  revisions_->deploy({{"a2", "r1", "Default", "localhost", true, 1}});
  documents_->create({"d1", "a2", "Guide", "{}", "text", 1});
  EXPECT_EQ(apis_->remove("a2"), RemoveResult::removed);
  EXPECT_FALSE(apis_->find("a2"));
  EXPECT_TRUE(revisions_->list("a2").empty());
  EXPECT_TRUE(revisions_->deployments("a2").empty());
  EXPECT_EQ(documents_->count("a2"), 0);
  EXPECT_EQ(apis_->remove("a2"), RemoveResult::not_found);
}

TEST_P(ApisRepositoryTest, LifecycleChangesApplyAllOrNone) {
  apis_->create(api("a1", "Pizza", "1.0", "/pizza"));
  ApiRecord v2 = api("a2", "Pizza", "2.0", "/pizza");
  apis_->create(v2);
  LifecycleChange c1{"a1",
                     "CREATED",
                     "PUBLISHED",
                     R"({"s":1})",
                     {"h1", "a1", "CREATED", "PUBLISHED", "alice", 10}};
  LifecycleChange stale{
      "a2", "PUBLISHED", "DEPRECATED", "{}", {"h2", "a2", "PUBLISHED", "DEPRECATED", "alice", 10}};
  EXPECT_FALSE(apis_->change_lifecycle({c1, stale}));
  EXPECT_EQ(apis_->find("a1")->lifecycle_status, "CREATED");
  EXPECT_TRUE(apis_->lifecycle_history("a1").empty());
  EXPECT_TRUE(apis_->change_lifecycle({c1}));
  auto found = apis_->find("a1");
  EXPECT_EQ(found->lifecycle_status, "PUBLISHED");
  EXPECT_EQ(found->document, R"({"s":1})");
  auto history = apis_->lifecycle_history("a1");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].previous_state, "CREATED");
  EXPECT_EQ(history[0].post_state, "PUBLISHED");
  EXPECT_EQ(history[0].username, "alice");
  // Changes within one second keep their order (the id sorts the other way).
  LifecycleChange c2{
      "a1", "PUBLISHED", "BLOCKED", "{}", {"h0", "a1", "PUBLISHED", "BLOCKED", "alice", 10}};
  EXPECT_TRUE(apis_->change_lifecycle({c2}));
  history = apis_->lifecycle_history("a1");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].post_state, "BLOCKED");
}

TEST_P(ApisRepositoryTest, ThumbnailIsStoredWithTheDocument) {
  apis_->create(api("a1", "Pizza", "1.0", "/pizza"));
  EXPECT_EQ(apis_->thumbnail("a1")->first, "");
  EXPECT_TRUE(apis_->set_thumbnail("a1", "image/png", "iVBORw0=", R"({"hasThumbnail":true})"));
  auto t = apis_->thumbnail("a1");
  EXPECT_EQ(t->first, "image/png");
  EXPECT_EQ(t->second, "iVBORw0=");
  EXPECT_EQ(apis_->find("a1")->document, R"({"hasThumbnail":true})");
  EXPECT_FALSE(apis_->thumbnail("missing"));
  EXPECT_FALSE(apis_->set_thumbnail("missing", "image/png", "x", "{}"));
}

TEST_P(ApisRepositoryTest, SubscriptionViewAndBlocking) {
  apis_->create(api("a1", "Pizza", "1.0", "/pizza"));
  apis_->create(api("a2", "Pets", "1.0", "/pets"));
  add_subscription("s1", "a1");
  add_subscription("s2", "a2");
  EXPECT_EQ(apis_->count_subscriptions("a1"), 1);
  EXPECT_EQ(apis_->count_subscriptions(""), 2);
  auto subs = apis_->subscriptions("a1", 25, 0);
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(subs[0].application_name, "app-s1");
  EXPECT_EQ(subs[0].application_owner, "dev");
  EXPECT_EQ(subs[0].status, "UNBLOCKED");
  EXPECT_TRUE(apis_->set_subscription_status("s1", "BLOCKED", 5));
  EXPECT_EQ(apis_->find_subscription("s1")->status, "BLOCKED");
  EXPECT_FALSE(apis_->set_subscription_status("nope", "BLOCKED", 5));
  EXPECT_FALSE(apis_->find_subscription("nope"));
}

TEST_P(ApisRepositoryTest, SubscriptionPagesAreTheSameReadFromEitherEnd) {
  apis_->create(api("a1", "Pizza", "1.0", "/pizza"));
  apis_->create(api("a2", "Pets", "1.0", "/pets"));
  for (int i = 0; i < 7; ++i) add_subscription("s" + std::to_string(i), i % 3 ? "a1" : "a2");
  for (std::string api_id : {"", "a1"}) {
    std::int64_t total = apis_->count_subscriptions(api_id);
    std::vector<std::string> all;
    for (const auto& s : apis_->subscriptions(api_id, 100, 0)) all.push_back(s.id);
    ASSERT_EQ(static_cast<std::int64_t>(all.size()), total);
    for (std::int64_t offset = 0; offset <= total + 1; ++offset) {
      std::vector<std::string> expected, page;
      for (std::int64_t i = offset; i < std::min(offset + 3, total); ++i)
        expected.push_back(all[i]);
      for (const auto& s : apis_->subscriptions(api_id, 3, offset, total)) page.push_back(s.id);
      EXPECT_EQ(page, expected) << "api '" << api_id << "' offset " << offset;
    }
  }
}

TEST_P(ApisRepositoryTest, RevisionsAreSnapshotsLimitedInNumber) {
  ApiRecord a = api("a1", "Pizza", "1.0", "/pizza");
  a.document = R"({"v":1})";
  apis_->create(a);
  for (int i = 1; i <= 3; ++i) {
    ApiRevisionRecord rev;
    rev.id = "r" + std::to_string(i);
    rev.api_id = "a1";
    ASSERT_EQ(revisions_->create(rev, 3), RevisionCreateResult::created);
    EXPECT_EQ(rev.revision_number, i);
  }
  ApiRevisionRecord extra;
  extra.id = "r4";
  extra.api_id = "a1";
  EXPECT_EQ(revisions_->create(extra, 3), RevisionCreateResult::limit_reached);
  extra.api_id = "missing";
  EXPECT_EQ(revisions_->create(extra, 3), RevisionCreateResult::api_not_found);
  // The snapshot does not follow later edits.
  a.document = R"({"v":2})";
  apis_->update(a);
  EXPECT_EQ(revisions_->find("a1", "r1")->document, R"({"v":1})");
  EXPECT_FALSE(revisions_->find("other", "r1"));

  revisions_->deploy({{"a1", "r2", "Default", "localhost", true, 7}});
  EXPECT_EQ(revisions_->remove("a1", "r2"), RevisionRemoveResult::deployed);
  // Deploying another revision to the environment replaces the first.
  revisions_->deploy({{"a1", "r3", "Default", "localhost", false, 8}});
  auto deployed = revisions_->deployments("a1");
  ASSERT_EQ(deployed.size(), 1u);
  EXPECT_EQ(deployed[0].revision_id, "r3");
  EXPECT_FALSE(deployed[0].display_on_devportal);
  EXPECT_EQ(revisions_->remove("a1", "r2"), RevisionRemoveResult::removed);
  EXPECT_EQ(revisions_->remove("a1", "r2"), RevisionRemoveResult::not_found);
  // Numbers are never reused.
  ApiRevisionRecord next;
  next.id = "r5";
  next.api_id = "a1";
  ASSERT_EQ(revisions_->create(next, 3), RevisionCreateResult::created);
  EXPECT_EQ(next.revision_number, 4);
  EXPECT_EQ(revisions_->undeploy("a1", "r3", {"Default", "Other"}),
            std::vector<std::string>{"Default"});
  EXPECT_TRUE(revisions_->deployments("a1").empty());
}

TEST_P(ApisRepositoryTest, DocumentsCrudWithUniqueNames) {
  apis_->create(api("a1", "Pizza", "1.0", "/pizza"));
  documents_->create({"d1", "a1", "Guide", R"({"n":1})", "", 1});
  documents_->create({"d2", "a1", "FAQ", "{}", "", 2});
  EXPECT_THROW(documents_->create({"d3", "a1", "Guide", "{}", "", 3}), ConflictError);
  EXPECT_EQ(documents_->count("a1"), 2);
  auto page = documents_->list("a1", 1, 1);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].id, "d2");
  EXPECT_TRUE(documents_->set_content("a1", "d1", R"({"n":2})", "hello"));
  auto d1 = documents_->find("a1", "d1");
  EXPECT_EQ(d1->content, "hello");
  EXPECT_EQ(d1->document, R"({"n":2})");
  ApiDocumentRecord renamed = *d1;
  renamed.name = "FAQ";
  EXPECT_THROW(documents_->update(renamed), ConflictError);
  renamed.name = "Guide 2";
  EXPECT_TRUE(documents_->update(renamed));
  EXPECT_EQ(documents_->find("a1", "d1")->name, "Guide 2");
  EXPECT_FALSE(documents_->find("other", "d1"));
  EXPECT_TRUE(documents_->remove("a1", "d1"));
  EXPECT_FALSE(documents_->remove("a1", "d1"));
}

}  // namespace
}  // namespace portico::store

#include "store/environments_repository.h"

#include <gtest/gtest.h>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

class EnvironmentsRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!IsSkipped()) environments_ = std::make_unique<EnvironmentsRepository>(*db_);
  }
  std::unique_ptr<EnvironmentsRepository> environments_;
};
PORTICO_STORE_BACKENDS(EnvironmentsRepositoryTest);

TEST_P(EnvironmentsRepositoryTest, CreateFindUpdate) {
  environments_->create({"e-1", "Default", R"({"v":1})", 1700000000});
  EXPECT_THROW(environments_->create({"e-2", "Default", "{}", 1}), ConflictError);
  EXPECT_FALSE(environments_->create_if_missing({"e-3", "Default", "{}", 1}));
  EXPECT_TRUE(environments_->create_if_missing({"e-4", "Internal", "{}", 1}));
  EXPECT_EQ(environments_->find_by_name("Default")->id, "e-1");
  EXPECT_EQ(environments_->find("e-4")->name, "Internal");
  EXPECT_TRUE(environments_->update_document("e-1", R"({"v":2})"));
  EXPECT_EQ(environments_->find("e-1")->document, R"({"v":2})");
  EXPECT_FALSE(environments_->update_document("e-404", "{}"));
  auto list = environments_->list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "Default");
  EXPECT_EQ(environments_->list_after("e-1", 10).size(), 1u);
}

TEST_P(EnvironmentsRepositoryTest, EnvironmentWithDeploymentsIsNotRemoved) {
  environments_->create({"e-1", "Busy", "{}", 1});
  environments_->create({"e-2", "Idle", "{}", 1});
  db_->with_session([](soci::session& sql) {
    sql << "INSERT INTO apis (id, name, version, context, provider, lifecycle_status, "
           "visibility, is_default_version, description, document, openapi, thumbnail_type, "
           "thumbnail, created_time, updated_time) VALUES ('api-1', 'Pets', '1.0.0', '/pets', "
           "'admin', 'PUBLISHED', 'PUBLIC', 1, '', '{}', '', '', '', 1, 1)";
    sql << "INSERT INTO api_revisions (id, api_id, revision_number, description, document, "
           "openapi, created_time) VALUES ('rev-1', 'api-1', 1, '', '{}', '', 1)";
    sql << "INSERT INTO api_deployments (api_id, revision_id, environment, vhost, "
           "display_on_devportal, deployed_time) VALUES ('api-1', 'rev-1', 'Busy', 'localhost', "
           "1, 1)";
  });
  EXPECT_EQ(environments_->remove_unless_used("e-1"), EnvironmentRemoval::in_use);
  EXPECT_EQ(environments_->remove_unless_used("e-2"), EnvironmentRemoval::removed);
  EXPECT_EQ(environments_->remove_unless_used("e-2"), EnvironmentRemoval::not_found);
  EXPECT_TRUE(environments_->find("e-1"));
}

}  // namespace
}  // namespace portico::store

#include "store/api_scopes_repository.h"

#include <gtest/gtest.h>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

using Definitions = std::vector<std::vector<std::string>>;

class ApiScopesRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!IsSkipped()) scopes_ = std::make_unique<ApiScopesRepository>(*db_);
  }
  std::unique_ptr<ApiScopesRepository> scopes_;
};
PORTICO_STORE_BACKENDS(ApiScopesRepositoryTest);

TEST_P(ApiScopesRepositoryTest, AClaimedScopeIsReadWithItsRoles) {
  EXPECT_EQ(scopes_->claim("a", "pets\nalice", {{"read", {"admin", "creator"}}, {"any", {}}}, {}),
            std::nullopt);
  EXPECT_EQ(scopes_->definitions("read"), (Definitions{{"admin", "creator"}}));
  EXPECT_EQ(scopes_->definitions("any"), (Definitions{{}}));
  EXPECT_TRUE(scopes_->definitions("write").empty());
}

TEST_P(ApiScopesRepositoryTest, AnotherOwnerCannotClaimATakenScopeAndNothingChanges) {
  scopes_->claim("a", "pets\nalice", {{"read", {"admin"}}}, {});
  EXPECT_EQ(scopes_->claim("b", "shop\nalice", {{"write", {}}, {"read", {}}}, {}), "read");
  EXPECT_TRUE(scopes_->definitions("write").empty());
  EXPECT_EQ(scopes_->definitions("read"), (Definitions{{"admin"}}));
}

TEST_P(ApiScopesRepositoryTest, VersionsOfOneApiShareTheirScopes) {
  scopes_->claim("v1", "pets\nalice", {{"read", {"admin"}}}, {});
  EXPECT_EQ(scopes_->claim("v2", "pets\nalice", {{"read", {"creator"}}}, {}), std::nullopt);
  EXPECT_EQ(scopes_->definitions("read").size(), 2u);
}

TEST_P(ApiScopesRepositoryTest, AScopeTheApiAlreadyHadIsKeptWhateverOthersDefine) {
  scopes_->replace("old", "legacy\nbob", {{"read", {}}});
  scopes_->replace("a", "pets\nalice", {{"read", {}}});
  EXPECT_EQ(scopes_->claim("a", "pets\nalice", {{"read", {"admin"}}}, {"read"}), std::nullopt);
  EXPECT_EQ(scopes_->definitions("read").size(), 2u);
}

TEST_P(ApiScopesRepositoryTest, ARemovedApiFreesItsScopes) {
  scopes_->claim("a", "pets\nalice", {{"read", {}}}, {});
  EXPECT_EQ(scopes_->remove("a"), 1);
  EXPECT_EQ(scopes_->remove("a"), 0);
  EXPECT_TRUE(scopes_->definitions("read").empty());
  EXPECT_EQ(scopes_->claim("b", "shop\nbob", {{"read", {}}}, {}), std::nullopt);
}

TEST_P(ApiScopesRepositoryTest, FillingInKeepsWhatIsStored) {
  scopes_->replace("a", "pets\nalice", {{"read", {"admin"}}});
  scopes_->insert_if_none("a", "pets\nalice", {{"read", {}}, {"write", {}}});
  EXPECT_EQ(scopes_->definitions("read"), (Definitions{{"admin"}}));
  EXPECT_TRUE(scopes_->definitions("write").empty());
  scopes_->insert_if_none("b", "shop\nbob", {{"write", {}}});
  EXPECT_EQ(scopes_->definitions("write"), (Definitions{{}}));
}

}  // namespace
}  // namespace portico::store

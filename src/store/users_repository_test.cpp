#include "store/users_repository.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

UserRecord user(const std::string& id, const std::string& username,
                std::vector<std::string> roles = {}) {
  return UserRecord{id, username, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", std::move(roles),
                    1700000000};
}

class UsersRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!IsSkipped()) users_ = std::make_unique<UsersRepository>(*db_);
  }
  std::unique_ptr<UsersRepository> users_;
};
PORTICO_STORE_BACKENDS(UsersRepositoryTest);

TEST_P(UsersRepositoryTest, CreatedUserIsFoundByUsernameAndById) {
  users_->create(user("u-1", "alice", {"subscriber", "admin"}));

  auto by_name = users_->find_by_username("alice");
  ASSERT_TRUE(by_name);
  EXPECT_EQ(by_name->id, "u-1");
  EXPECT_EQ(by_name->username, "alice");
  EXPECT_EQ(by_name->password_hash, user("", "").password_hash);
  EXPECT_EQ(by_name->roles, (std::vector<std::string>{"admin", "subscriber"}));
  EXPECT_EQ(by_name->created_at, 1700000000);

  auto by_id = users_->find_by_id("u-1");
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->username, "alice");
  EXPECT_EQ(by_id->roles, by_name->roles);
}

TEST_P(UsersRepositoryTest, UnknownUserIsNotFound) {
  EXPECT_FALSE(users_->find_by_username("nobody"));
  EXPECT_FALSE(users_->find_by_id("u-404"));
}

TEST_P(UsersRepositoryTest, TakenUsernameIsConflictAndWritesNothing) {
  users_->create(user("u-1", "alice"));
  EXPECT_THROW(users_->create(user("u-2", "alice", {"admin"})), ConflictError);
  EXPECT_EQ(users_->count(), 1);
  EXPECT_FALSE(users_->find_by_id("u-2"));
  EXPECT_TRUE(users_->find_by_id("u-1")->roles.empty());
}

TEST_P(UsersRepositoryTest, TakenIdIsConflict) {
  users_->create(user("u-1", "alice"));
  EXPECT_THROW(users_->create(user("u-1", "bob")), ConflictError);
}

TEST_P(UsersRepositoryTest, RepeatedRoleIsStoredOnce) {
  users_->create(user("u-1", "alice", {"admin", "admin"}));
  EXPECT_EQ(users_->find_by_id("u-1")->roles, std::vector<std::string>{"admin"});
}

TEST_P(UsersRepositoryTest, SetRolesReplacesTheRoles) {
  users_->create(user("u-1", "alice", {"subscriber"}));
  users_->set_roles("u-1", {"publisher", "creator"});
  EXPECT_EQ(users_->find_by_id("u-1")->roles, (std::vector<std::string>{"creator", "publisher"}));
  users_->set_roles("u-1", {});
  EXPECT_TRUE(users_->find_by_id("u-1")->roles.empty());
}

TEST_P(UsersRepositoryTest, SetRolesOfUnknownUserThrows) {
  EXPECT_THROW(users_->set_roles("u-404", {"admin"}), std::invalid_argument);
}

TEST_P(UsersRepositoryTest, SetPasswordHashReplacesTheHash) {
  users_->create(user("u-1", "alice"));
  users_->set_password_hash("u-1", "$argon2id$new");
  EXPECT_EQ(users_->find_by_id("u-1")->password_hash, "$argon2id$new");
  EXPECT_THROW(users_->set_password_hash("u-404", "x"), std::invalid_argument);
}

TEST_P(UsersRepositoryTest, ListPagesInUsernameOrderWithRoles) {
  users_->create(user("u-3", "carol", {"admin"}));
  users_->create(user("u-1", "alice", {"subscriber", "creator"}));
  users_->create(user("u-4", "dave"));
  users_->create(user("u-2", "bob", {"publisher"}));
  EXPECT_EQ(users_->count(), 4);

  auto first = users_->list(2, 0);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].username, "alice");
  EXPECT_EQ(first[0].roles, (std::vector<std::string>{"creator", "subscriber"}));
  EXPECT_EQ(first[1].username, "bob");
  EXPECT_EQ(first[1].roles, std::vector<std::string>{"publisher"});

  auto second = users_->list(2, 2);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].username, "carol");
  EXPECT_EQ(second[0].roles, std::vector<std::string>{"admin"});
  EXPECT_EQ(second[1].username, "dave");
  EXPECT_TRUE(second[1].roles.empty());

  EXPECT_TRUE(users_->list(2, 4).empty());
  EXPECT_TRUE(users_->list(0, 0).empty());
  EXPECT_EQ(users_->list(100, 0).size(), 4u);
}

TEST_P(UsersRepositoryTest, RemoveDeletesTheUserAndTheirRoles) {
  users_->create(user("u-1", "alice", {"admin"}));
  users_->create(user("u-2", "bob", {"admin"}));
  EXPECT_TRUE(users_->remove("u-1"));
  EXPECT_FALSE(users_->find_by_id("u-1"));
  EXPECT_FALSE(users_->remove("u-1"));
  EXPECT_EQ(users_->count(), 1);
  // The id can be reused without inheriting roles.
  users_->create(user("u-1", "alice"));
  EXPECT_TRUE(users_->find_by_id("u-1")->roles.empty());
  EXPECT_EQ(users_->find_by_id("u-2")->roles, std::vector<std::string>{"admin"});
}

TEST_P(UsersRepositoryTest, UsernameTakenIgnoringCaseFindsCaseVariants) {
  users_->create(user("u-1", "alice"));
  EXPECT_TRUE(users_->username_taken_ignoring_case("Alice"));
  EXPECT_TRUE(users_->username_taken_ignoring_case("ALICE"));
  EXPECT_FALSE(users_->username_taken_ignoring_case("alicia"));
}

}  // namespace
}  // namespace portico::store

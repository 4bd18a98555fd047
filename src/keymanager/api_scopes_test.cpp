#include "keymanager/api_scopes.h"

#include <gtest/gtest.h>

namespace portico::keymanager {
namespace {

using Roles = std::vector<std::string>;

TEST(StrictestRoles, AScopeNoApiDefinesHasNoRoles) {
  EXPECT_EQ(strictest_roles({}), std::nullopt);
}

TEST(StrictestRoles, AScopeWithoutBindingsIsOpenToAnyRole) {
  EXPECT_EQ(strictest_roles({{}}), Roles{});
}

TEST(StrictestRoles, ADefinitionWithoutBindingsDoesNotOpenABoundScope) {
  EXPECT_EQ(strictest_roles({{"admin"}, {}}), Roles{"admin"});
}

TEST(StrictestRoles, ASecondDefinitionCanOnlyNarrowTheRoles) {
  EXPECT_EQ(strictest_roles({{"admin", "creator"}, {"subscriber", "creator"}}), Roles{"creator"});
  EXPECT_EQ(strictest_roles({{"admin", "creator"}, {"subscriber"}}), Roles{kNoRole});
}

}  // namespace
}  // namespace portico::keymanager

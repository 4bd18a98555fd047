#include "publisher/scope_index.h"

#include <gtest/gtest.h>

namespace portico::publisher {
namespace {

using Roles = std::vector<std::string>;

TEST(ScopeIndex, AScopeWithoutBindingsIsOpenToAnyRole) {
  ScopeIndex index;
  index.set("a", "pets\nalice", {{"read", {}}});
  EXPECT_EQ(index.roles("read"), Roles{});
  EXPECT_EQ(index.roles("write"), std::nullopt);
}

TEST(ScopeIndex, ADefinitionWithoutBindingsDoesNotOpenABoundScope) {
  ScopeIndex index;
  index.set("a", "pets\nalice", {{"read", {"admin"}}});
  index.set("b", "pets\nalice", {{"read", {}}});
  EXPECT_EQ(index.roles("read"), Roles{"admin"});
}

TEST(ScopeIndex, ASecondDefinitionCanOnlyNarrowTheRoles) {
  ScopeIndex index;
  index.set("a", "pets\nalice", {{"read", {"admin", "creator"}}});
  index.set("b", "pets\nalice", {{"read", {"creator", "subscriber"}}});
  EXPECT_EQ(index.roles("read"), Roles{"creator"});
  index.set("b", "pets\nalice", {{"read", {"subscriber"}}});
  EXPECT_EQ(index.roles("read"), Roles{kNoRole});
  index.erase("b");
  EXPECT_EQ(index.roles("read"), (Roles{"admin", "creator"}));
}

TEST(ScopeIndex, TellsWhetherAnotherOwnerDefinesAScope) {
  ScopeIndex index;
  index.set("a", ScopeIndex::owner_of("pets", "alice"), {{"read", {"admin"}}});
  EXPECT_FALSE(index.taken_by_other("read", ScopeIndex::owner_of("pets", "alice")));
  EXPECT_TRUE(index.taken_by_other("read", ScopeIndex::owner_of("pets", "mallory")));
  EXPECT_TRUE(index.taken_by_other("read", ScopeIndex::owner_of("shop", "alice")));
  EXPECT_FALSE(index.taken_by_other("write", ScopeIndex::owner_of("shop", "alice")));
  index.erase("a");
  EXPECT_FALSE(index.taken_by_other("read", ScopeIndex::owner_of("shop", "alice")));
}

}  // namespace
}  // namespace portico::publisher

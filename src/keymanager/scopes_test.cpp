#include "keymanager/scopes.h"

#include <gtest/gtest.h>

namespace portico::keymanager {

TEST(Scopes, SubscriberMaySubscribeButNotCreateApis) {
  auto scopes = scopes_for_roles({"subscriber"});
  EXPECT_TRUE(scopes.count("apim:subscribe"));
  EXPECT_TRUE(scopes.count("apim:app_manage"));
  EXPECT_FALSE(scopes.count("apim:api_create"));
  EXPECT_FALSE(scopes.count("apim:admin"));
}

TEST(Scopes, AdminHoldsEveryRolesScopesAndTheAdminOnes) {
  auto admin = scopes_for_roles({"admin"});
  for (auto& role : {"creator", "publisher", "subscriber"})
    for (auto& s : scopes_for_roles({role})) EXPECT_TRUE(admin.count(s)) << s;
  EXPECT_TRUE(admin.count("apim:tier_manage"));
  EXPECT_TRUE(admin.count("apim:admin"));
}

TEST(Scopes, CreatorCreatesPublisherPublishes) {
  EXPECT_TRUE(scopes_for_roles({"creator"}).count("apim:api_create"));
  EXPECT_FALSE(scopes_for_roles({"creator"}).count("apim:api_publish"));
  EXPECT_TRUE(scopes_for_roles({"publisher"}).count("apim:api_publish"));
  EXPECT_FALSE(scopes_for_roles({"publisher"}).count("apim:api_create"));
}

TEST(Scopes, ScopeTokenSyntaxFollowsRfc6749) {
  EXPECT_TRUE(is_valid_scope_token("apim:api_view"));
  EXPECT_FALSE(is_valid_scope_token(""));
  EXPECT_FALSE(is_valid_scope_token("a\"b"));
  EXPECT_FALSE(is_valid_scope_token("a\\b"));
  EXPECT_FALSE(is_valid_scope_token("caf\xc3\xa9"));
}

TEST(Scopes, SplitSkipsRepeatedSpaces) {
  EXPECT_EQ(split_scopes("  a  b "), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(join_scopes({"b", "a"}), "a b");
}

}  // namespace portico::keymanager

#include <gtest/gtest.h>

#include "devportal/devportal_impl.h"

namespace portico::devportal {
namespace {

store::CatalogApi api(std::string status, std::string visibility, std::string document = "{}") {
  store::CatalogApi a;
  a.id = "api-1";
  a.lifecycle_status = std::move(status);
  a.visibility = std::move(visibility);
  a.document = std::move(document);
  return a;
}

keymanager::Principal user(std::vector<std::string> roles) {
  keymanager::Principal p;
  p.username = "alice";
  p.roles = std::move(roles);
  return p;
}

TEST(Visibility, OnlyPortalStatesAreVisible) {
  for (const char* state : {"PUBLISHED", "PROTOTYPED", "DEPRECATED"}) {
    EXPECT_TRUE(DevPortalState::visible(api(state, "PUBLIC"), std::nullopt)) << state;
  }
  for (const char* state : {"CREATED", "BLOCKED", "RETIRED"}) {
    EXPECT_FALSE(DevPortalState::visible(api(state, "PUBLIC"), user({"admin"}))) << state;
  }
}

TEST(Visibility, RestrictedNeedsOneOfTheVisibleRoles) {
  auto restricted = api("PUBLISHED", "RESTRICTED", R"({"visibleRoles":["partner","gold"]})");
  EXPECT_FALSE(DevPortalState::visible(restricted, std::nullopt));
  EXPECT_FALSE(DevPortalState::visible(restricted, user({"subscriber"})));
  EXPECT_TRUE(DevPortalState::visible(restricted, user({"subscriber", "gold"})));
  EXPECT_TRUE(DevPortalState::visible(restricted, user({"admin"})));
}

TEST(Visibility, RestrictedWithAMalformedDocumentIsHidden) {
  EXPECT_FALSE(
      DevPortalState::visible(api("PUBLISHED", "RESTRICTED", "not json"), user({"subscriber"})));
}

TEST(Visibility, PrivateIsForSignedInUsers) {
  EXPECT_FALSE(DevPortalState::visible(api("PUBLISHED", "PRIVATE"), std::nullopt));
  EXPECT_TRUE(DevPortalState::visible(api("PUBLISHED", "PRIVATE"), user({"subscriber"})));
}

TEST(SearchQuery, PrefixesAndFreeText) {
  auto q = parse_search_query("name:pets Tags:animals provider:admin free text");
  EXPECT_EQ(q.name, "pets");
  EXPECT_EQ(q.tag, "animals");
  EXPECT_EQ(q.provider, "admin");
  EXPECT_EQ(q.text, "free text");
  EXPECT_EQ(q.statuses, (std::vector<std::string>{"PUBLISHED", "PROTOTYPED", "DEPRECATED"}));
}

TEST(SearchQuery, StatusNarrowsWithinThePortalStatesOnly) {
  EXPECT_EQ(parse_search_query("status:prototyped").statuses,
            (std::vector<std::string>{"PROTOTYPED"}));
  EXPECT_TRUE(parse_search_query("status:CREATED").statuses.empty());
}

TEST(SearchQuery, UnknownPrefixAndOverlongQueryAre400) {
  EXPECT_THROW(parse_search_query("owner:bob"), ApiError);
  EXPECT_THROW(parse_search_query(std::string(257, 'a')), ApiError);
  EXPECT_NO_THROW(parse_search_query(""));
}

}  // namespace
}  // namespace portico::devportal

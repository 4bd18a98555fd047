#include "publisher/lifecycle.h"

#include <gtest/gtest.h>

#include <set>
#include <tuple>

namespace portico::publisher::lifecycle {
namespace {

const std::vector<std::string_view> kStates = {kCreated, kPrototyped, kPublished,
                                               kBlocked, kDeprecated, kRetired};
const std::vector<std::string_view> kActions = {
    "Publish", "Deploy as a Prototype", "Demote to Created", "Block", "Deprecate", "Re-Publish",
    "Retire"};

// Every edge of the reference's lifecycle, and nothing else.
const std::set<std::tuple<std::string_view, std::string_view, std::string_view>> kEdges = {
    {kCreated, "Publish", kPublished},
    {kCreated, "Deploy as a Prototype", kPrototyped},
    {kPrototyped, "Publish", kPublished},
    {kPrototyped, "Demote to Created", kCreated},
    {kPrototyped, "Deploy as a Prototype", kPrototyped},
    {kPublished, "Block", kBlocked},
    {kPublished, "Deploy as a Prototype", kPrototyped},
    {kPublished, "Demote to Created", kCreated},
    {kPublished, "Deprecate", kDeprecated},
    {kPublished, "Publish", kPublished},
    {kBlocked, "Deprecate", kDeprecated},
    {kBlocked, "Re-Publish", kPublished},
    {kDeprecated, "Retire", kRetired},
};

TEST(Lifecycle, EveryStateActionPairFollowsTheReferenceTable) {
  for (auto state : kStates) {
    for (auto action : kActions) {
      auto next = next_state(state, action);
      bool expected = false;
      for (auto& [from, act, to] : kEdges) {
        if (from == state && act == action) {
          expected = true;
          ASSERT_TRUE(next) << state << " " << action;
          EXPECT_EQ(*next, to) << state << " " << action;
        }
      }
      if (!expected) EXPECT_FALSE(next) << state << " " << action;
    }
  }
}

TEST(Lifecycle, RetiredIsFinalAndUnknownStatesHaveNoTransitions) {
  EXPECT_TRUE(transitions_from(kRetired).empty());
  EXPECT_TRUE(transitions_from("NOPE").empty());
  EXPECT_FALSE(next_state("NOPE", "Publish"));
}

TEST(Lifecycle, DisplayNamesAreCapitalised) {
  EXPECT_EQ(display_name(kPublished), "Published");
  EXPECT_EQ(display_name(kCreated), "Created");
}

TEST(Lifecycle, ChecklistIsOfferedBeforePublishing) {
  EXPECT_EQ(check_items(kCreated).size(), 2u);
  EXPECT_EQ(check_items(kCreated)[0], kDeprecateOldVersions);
  EXPECT_EQ(check_items(kPrototyped).size(), 2u);
  EXPECT_TRUE(check_items(kPublished).empty());
}

}  // namespace
}  // namespace portico::publisher::lifecycle

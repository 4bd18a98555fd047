#include "gateway/source_index.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>
#include <string>

namespace portico::gateway {
namespace {

namespace json = boost::json;

SnapshotSources configuration(std::string_view api1_context) {
  SnapshotSources s;
  s.environment = "Default";
  s.runtime_artifacts = {json::object{{"apiId", "api1"}, {"context", api1_context}},
                         json::object{{"apiId", "api2"}, {"context", "/two"}}};
  s.applications = {json::object{{"id", "app1"}, {"name", "shop"}}};
  s.key_mappings = {json::object{{"applicationId", "app1"}, {"consumerKey", "ck1"}}};
  s.subscriptions = {json::object{{"applicationId", "app1"}, {"apiId", "api1"}},
                     json::object{{"applicationId", "orphan"}, {"apiId", "api2"}}};
  s.deny_policies = {json::object{{"id", "d1"}}};
  return s;
}

TEST(SourceIndex, AResetCountsOnlyTheItemsThatDifferAsChanged) {
  SourceIndex index;
  index.reset(configuration("/one"));
  EXPECT_EQ(index.take_changes(), (std::set<std::string>{"api:api1", "api:api2", "application:app1",
                                                         "application:orphan", "policies"}));
  index.reset(configuration("/one"));
  EXPECT_FALSE(index.has_changes());

  auto next = configuration("/moved");
  next.runtime_artifacts.pop_back();  // api2 is gone
  index.reset(std::move(next));
  EXPECT_EQ(index.take_changes(), (std::set<std::string>{"api:api1", "api:api2"}));
  EXPECT_EQ(index.sources().runtime_artifacts.size(), 1u);
}

TEST(SourceIndex, DescribedChangesReplayedOnTheOldStateGiveTheNewOne) {
  SourceIndex index;
  index.reset(configuration("/one"));
  SourceIndex replica = index;
  index.take_changes();
  index.set_artifact("api3", json::object{{"apiId", "api3"}, {"context", "/three"}});
  index.remove_artifact("api2");
  index.set_application(
      "app2", json::object{{"id", "app2"},
                           {"keyMappings", json::array{}},
                           {"subscriptions", json::array{json::object{{"applicationId", "app2"},
                                                                      {"apiId", "api3"}}}}});
  index.remove_application("app1");
  index.set_policies({json::object{{"name", "Gold"}}}, {}, {}, {});
  auto changes = index.take_changes();
  EXPECT_EQ(changes.size(), 5u);
  // Through the text the journal stores.
  json::value entries = json::parse(json::serialize(index.describe(changes)));
  for (const auto& entry : entries.get_array()) EXPECT_TRUE(replica.apply(entry)) << entry;
  EXPECT_EQ(json::serialize(replica.sources().runtime_artifacts),
            json::serialize(index.sources().runtime_artifacts));
  auto got = replica.sources();
  auto want = index.sources();
  EXPECT_EQ(got.applications, want.applications);
  EXPECT_EQ(got.key_mappings, want.key_mappings);
  EXPECT_EQ(got.subscriptions, want.subscriptions);
  EXPECT_EQ(got.subscription_policies, want.subscription_policies);
  EXPECT_EQ(got.deny_policies, want.deny_policies);
  EXPECT_EQ(got.subscriptions.size(), 2u);  // app2's and the orphan's
}

TEST(SourceIndex, AnApplicationKnownOnlyByItsSubscriptionsReplaysWithoutOne) {
  SourceIndex index;
  index.reset(configuration("/one"));
  auto entries = index.describe({"application:orphan"});
  SourceIndex replica;
  ASSERT_TRUE(replica.apply(entries.at(0)));
  auto sources = replica.sources();
  EXPECT_TRUE(sources.applications.empty());
  EXPECT_EQ(sources.subscriptions.size(), 1u);
}

TEST(SourceIndex, WhatIsNotAJournalEntryIsRefused) {
  SourceIndex index;
  for (const char* text :
       {R"(42)", R"({})", R"({"api":"a"})", R"({"api":"a","artifact":7})",
        R"({"application":"x","items":"no"})", R"({"policies":{"subscription":[]}})"})
    EXPECT_FALSE(index.apply(json::parse(text))) << text;
  EXPECT_FALSE(index.has_changes());
}

}  // namespace
}  // namespace portico::gateway

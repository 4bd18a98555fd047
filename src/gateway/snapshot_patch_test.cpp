#include "gateway/snapshot_patch.h"

#include <gtest/gtest.h>

namespace portico::gateway {
namespace {

Subscription subscription(const std::string& app, const std::string& api) {
  Subscription s;
  s.id = app + "-" + api;
  s.application_id = app;
  s.api_id = api;
  s.status = "UNBLOCKED";
  s.throttle_key = app + ":" + api;
  return s;
}

std::shared_ptr<const Api> api_named(const std::string& id, const std::string& context,
                                     const std::string& version, std::int64_t deployed_time,
                                     bool default_version, const std::string& revision = "r1") {
  auto api = std::make_shared<Api>();
  api->id = id;
  api->context = context;
  api->version = version;
  api->context_version = context + "/" + version;
  api->deployed_time = deployed_time;
  api->default_version = default_version;
  api->revision_id = revision;
  return api;
}

std::string routed(const Snapshot& s, std::string_view route) {
  const auto* api = s.by_context.find(route);
  return api == nullptr ? "" : (*api)->id + "@" + (*api)->revision_id;
}

std::shared_ptr<const Snapshot> base() {
  auto s = std::make_shared<Snapshot>();
  s->version = 3;
  s->applications["app-1"] = Application{"app-1", "One", "alice", "Unlimited", "APPROVED"};
  s->applications["app-2"] = Application{"app-2", "Two", "bob", "Unlimited", "APPROVED"};
  s->map_client("old-client", KeyMapping{"app-1", "PRODUCTION"});
  s->map_client("bob-client", KeyMapping{"app-2", "PRODUCTION"});
  s->subscriptions["app-1"]["api-1"] = subscription("app-1", "api-1");
  s->subscriptions["app-2"]["api-1"] = subscription("app-2", "api-1");
  for (auto api : {api_named("api-1", "/pets", "1.0.0", 100, true),
                   api_named("api-2", "/shop", "1.0.0", 100, false)}) {
    s->apis[api->id] = api;
    s->by_context[api->context_version] = api;
    if (api->default_version) s->by_context[api->context] = api;
  }
  return s;
}

TEST(SnapshotPatch, AnApplicationReplacesWhatTheSnapshotHadForIt) {
  auto before = base();
  ApplicationRecord record;
  record.application = Application{"app-1", "One", "alice", "Gold", "APPROVED"};
  record.clients["new-client"] = KeyMapping{"app-1", "SANDBOX"};
  record.subscriptions["api-2"] = subscription("app-1", "api-2");
  auto after = with_application(*before, record, 4);
  EXPECT_EQ(after->version, 4u);
  EXPECT_EQ(after->applications.at("app-1").throttling_policy, "Gold");
  EXPECT_EQ(after->clients.count("old-client"), 0u);
  EXPECT_EQ(after->clients.at("new-client").key_type, "SANDBOX");
  EXPECT_EQ(after->find_subscription("app-1", "api-1"), nullptr);
  EXPECT_NE(after->find_subscription("app-1", "api-2"), nullptr);
  // Other applications and the APIs are untouched (shared, not rebuilt).
  EXPECT_NE(after->find_subscription("app-2", "api-1"), nullptr);
  EXPECT_EQ(after->clients.at("bob-client").application_id, "app-2");
  EXPECT_EQ(after->apis.at("api-1"), before->apis.at("api-1"));
  // The base is not modified.
  EXPECT_NE(before->find_subscription("app-1", "api-1"), nullptr);
  EXPECT_EQ(before->clients.count("new-client"), 0u);
}

TEST(SnapshotPatch, AnApplicationWithoutSubscriptionsHoldsNone) {
  ApplicationRecord record;
  record.application = Application{"app-2", "Two", "bob", "Unlimited", "APPROVED"};
  auto after = with_application(*base(), record, 4);
  EXPECT_EQ(after->subscriptions.count("app-2"), 0u);
  EXPECT_EQ(after->clients.count("bob-client"), 0u);
}

TEST(SnapshotPatch, WithoutAnApplicationDropsItsClientsAndSubscriptions) {
  auto before = base();
  auto after = without_application(*before, "app-1", 5);
  EXPECT_EQ(after->version, 5u);
  EXPECT_EQ(after->applications.count("app-1"), 0u);
  EXPECT_EQ(after->clients.count("old-client"), 0u);
  EXPECT_EQ(after->subscriptions.count("app-1"), 0u);
  EXPECT_EQ(after->applications.count("app-2"), 1u);
  EXPECT_EQ(before->applications.count("app-1"), 1u);
}

TEST(SnapshotPatch, AnUnchangedEntryIsSharedWithTheBaseNotCopied) {
  auto before = std::make_shared<Snapshot>();
  for (int i = 0; i < 200; ++i) {
    std::string id = "app-" + std::to_string(i);
    before->applications[id] = Application{id, id, "alice", "Unlimited", "APPROVED"};
    before->subscriptions[id]["api-1"] = subscription(id, "api-1");
  }
  ApplicationRecord record;
  record.application = Application{"app-7", "renamed", "alice", "Gold", "APPROVED"};
  auto after = with_application(*before, record, 4);
  // Only the shard that holds app-7 is copied: every other entry is the very same object.
  int shared = 0;
  for (int i = 0; i < 200; ++i) {
    std::string id = "app-" + std::to_string(i);
    shared += &after->applications.at(id) == &before->applications.at(id);
  }
  EXPECT_GE(shared, 190);
  EXPECT_EQ(after->applications.at("app-7").name, "renamed");
  EXPECT_EQ(before->applications.at("app-7").name, "app-7");
}

TEST(SnapshotPatch, ANewRevisionReplacesTheApiOnItsRoutes) {
  auto before = base();
  auto after = with_api(*before, api_named("api-1", "/pets", "1.0.0", 200, true, "r2"), 4);
  EXPECT_EQ(after->version, 4u);
  EXPECT_EQ(after->apis.at("api-1")->revision_id, "r2");
  EXPECT_EQ(routed(*after, "/pets/1.0.0"), "api-1@r2");
  EXPECT_EQ(routed(*after, "/pets"), "api-1@r2");
  EXPECT_EQ(after->apis.at("api-2"), before->apis.at("api-2"));
  EXPECT_EQ(routed(*before, "/pets"), "api-1@r1");
}

TEST(SnapshotPatch, ANewApiIsRoutedAndTheDefaultVersionMoves) {
  auto after = with_api(*base(), api_named("api-3", "/pets", "2.0.0", 300, true), 4);
  EXPECT_EQ(after->apis.size(), 3u);
  EXPECT_EQ(routed(*after, "/pets/2.0.0"), "api-3@r1");
  EXPECT_EQ(routed(*after, "/pets"), "api-3@r1");
  EXPECT_EQ(routed(*after, "/pets/1.0.0"), "api-1@r1");
}

TEST(SnapshotPatch, ARouteHeldByALaterDeployedApiIsNotTaken) {
  auto after = with_api(*base(), api_named("api-3", "/pets", "2.0.0", 50, true), 4);
  EXPECT_EQ(routed(*after, "/pets/2.0.0"), "api-3@r1");
  EXPECT_EQ(routed(*after, "/pets"), "api-1@r1");
}

TEST(SnapshotPatch, AnApiThatStopsBeingTheDefaultReleasesTheBareContext) {
  auto after = with_api(*base(), api_named("api-1", "/pets", "1.0.0", 100, false, "r2"), 4);
  EXPECT_EQ(routed(*after, "/pets"), "");
  EXPECT_EQ(routed(*after, "/pets/1.0.0"), "api-1@r2");
}

TEST(SnapshotPatch, WithoutAnApiItsRoutesGoToTheNextClaimant) {
  auto two = with_api(*base(), api_named("api-3", "/pets", "2.0.0", 50, true), 4);
  ASSERT_EQ(routed(*two, "/pets"), "api-1@r1");
  auto after = without_api(*two, "api-1", 5);
  EXPECT_EQ(after->apis.count("api-1"), 0u);
  EXPECT_EQ(routed(*after, "/pets/1.0.0"), "");
  EXPECT_EQ(routed(*after, "/pets"), "api-3@r1");
  EXPECT_EQ(routed(*after, "/shop/1.0.0"), "api-2@r1");
  // An API the snapshot does not have changes nothing.
  auto same = without_api(*after, "api-9", 6);
  EXPECT_EQ(same->apis.size(), after->apis.size());
}

}  // namespace
}  // namespace portico::gateway

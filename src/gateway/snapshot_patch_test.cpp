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

std::shared_ptr<const Snapshot> base() {
  auto s = std::make_shared<Snapshot>();
  s->version = 3;
  s->applications["app-1"] = Application{"app-1", "One", "alice", "Unlimited", "APPROVED"};
  s->applications["app-2"] = Application{"app-2", "Two", "bob", "Unlimited", "APPROVED"};
  s->clients["old-client"] = KeyMapping{"app-1", "PRODUCTION"};
  s->clients["bob-client"] = KeyMapping{"app-2", "PRODUCTION"};
  s->subscriptions["app-1"]["api-1"] = subscription("app-1", "api-1");
  s->subscriptions["app-2"]["api-1"] = subscription("app-2", "api-1");
  s->apis.push_back(std::make_shared<Api>());
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
  EXPECT_EQ(after->apis[0], before->apis[0]);
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

}  // namespace
}  // namespace portico::gateway

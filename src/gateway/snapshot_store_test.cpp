#include "gateway/snapshot_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace portico::gateway {
namespace {

std::shared_ptr<const Snapshot> snapshot_of_version(std::uint64_t version) {
  auto s = std::make_shared<Snapshot>();
  s->version = version;
  return s;
}

TEST(SnapshotStore, AReaderHandsTheSnapshotItHeldLastToTheDisposer) {
  SnapshotStore store;
  std::vector<std::shared_ptr<const void>> handed;
  store.set_disposer([&](std::shared_ptr<const void> held) { handed.push_back(std::move(held)); });
  store.publish(snapshot_of_version(1));
  SnapshotReader reader(store);
  std::weak_ptr<const Snapshot> first = reader.snapshot();

  store.publish(snapshot_of_version(2));
  EXPECT_TRUE(handed.empty());  // the reader still serves version 1
  reader.refresh();
  EXPECT_EQ(reader.snapshot()->version, 2u);
  ASSERT_EQ(handed.size(), 1u);
  EXPECT_FALSE(first.expired());  // alive until the disposer lets go, not freed by the reader
  handed.clear();
  EXPECT_TRUE(first.expired());
}

TEST(SnapshotStore, ASnapshotStillHeldElsewhereIsNotHandedOver) {
  SnapshotStore store;
  int handed = 0;
  store.set_disposer([&](std::shared_ptr<const void>) { ++handed; });
  store.publish(snapshot_of_version(1));
  SnapshotReader reader(store);
  SnapshotReader other(store);
  store.publish(snapshot_of_version(2));
  reader.refresh();
  EXPECT_EQ(handed, 0);  // `other` still holds version 1
  other.refresh();
  EXPECT_EQ(handed, 1);
}

TEST(SnapshotStore, WithoutADisposerTheReaderFreesTheOldSnapshot) {
  SnapshotStore store;
  store.publish(snapshot_of_version(1));
  SnapshotReader reader(store);
  std::weak_ptr<const Snapshot> first = reader.snapshot();
  store.publish(snapshot_of_version(2));
  reader.refresh();
  EXPECT_TRUE(first.expired());
}

}  // namespace
}  // namespace portico::gateway

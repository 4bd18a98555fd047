#include "gateway/sharded_map.h"

#include <gtest/gtest.h>

#include <set>

namespace portico::gateway {
namespace {

TEST(ShardedMap, FindsWhatWasPutAndNothingElse) {
  ShardedMap<int> map;
  EXPECT_TRUE(map.empty());
  map.insert_or_assign("a", 1);
  map["b"] = 2;
  EXPECT_TRUE(map.try_emplace("c", 3));
  EXPECT_FALSE(map.try_emplace("c", 4));
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(map.at("c"), 3);
  EXPECT_EQ(map.find("zz"), nullptr);
  EXPECT_THROW(map.at("zz"), std::out_of_range);
  EXPECT_TRUE(map.erase("a"));
  EXPECT_FALSE(map.erase("a"));
  EXPECT_EQ(map.count("a"), 0u);
  EXPECT_EQ(map.size(), 2u);
}

TEST(ShardedMap, ACopyChangesWithoutChangingTheOriginal) {
  ShardedMap<std::string> original;
  for (int i = 0; i < 5000; ++i) original["k" + std::to_string(i)] = "v" + std::to_string(i);
  ShardedMap<std::string> copy = original;
  copy["k1"] = "changed";
  copy.erase("k2");
  copy["new"] = "n";
  EXPECT_EQ(original.at("k1"), "v1");
  EXPECT_EQ(original.count("k2"), 1u);
  EXPECT_EQ(original.count("new"), 0u);
  EXPECT_EQ(original.size(), 5000u);
  EXPECT_EQ(copy.at("k1"), "changed");
  EXPECT_EQ(copy.size(), 5000u);
  // Entries the copy did not touch are shared with the original, not duplicated.
  EXPECT_EQ(&copy.at("k4000"), &original.at("k4000"));
}

// Copies of copies, each changed in turn: every one keeps its own entries (the groups and
// shards a write clones are the writer's alone).
TEST(ShardedMap, CopiesOfCopiesChangeIndependently) {
  ShardedMap<int> first;
  for (int i = 0; i < 5000; ++i) first["k" + std::to_string(i)] = i;
  ShardedMap<int> second = first;
  for (int i = 0; i < 5000; i += 7) second["k" + std::to_string(i)] = -i;
  ShardedMap<int> third = second;
  for (int i = 0; i < 5000; i += 3) third.erase("k" + std::to_string(i));
  second["only-second"] = 1;
  for (int i = 0; i < 5000; ++i) {
    std::string key = "k" + std::to_string(i);
    EXPECT_EQ(first.at(key), i);
    EXPECT_EQ(second.at(key), i % 7 == 0 ? -i : i);
    if (i % 3 == 0)
      EXPECT_EQ(third.find(key), nullptr);
    else
      EXPECT_EQ(third.at(key), i % 7 == 0 ? -i : i);
  }
  EXPECT_EQ(first.size(), 5000u);
  EXPECT_EQ(second.size(), 5001u);
  EXPECT_EQ(third.size(), 5000u - 1667u);
  EXPECT_EQ(third.count("only-second"), 0u);
}

TEST(ShardedMap, VisitsEveryEntryOnce) {
  ShardedMap<int> map;
  for (int i = 0; i < 3000; ++i) map["k" + std::to_string(i)] = i;
  std::set<int> seen;
  map.for_each([&](const std::string& key, int value) {
    EXPECT_EQ(key, "k" + std::to_string(value));
    seen.insert(value);
  });
  EXPECT_EQ(seen.size(), 3000u);
  map.clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.find("k1"), nullptr);
}

}  // namespace
}  // namespace portico::gateway

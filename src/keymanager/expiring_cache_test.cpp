#include "keymanager/expiring_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace portico::keymanager {

TEST(ExpiringCache, ReturnsWhatWasPut) {
  ExpiringCache<std::string, int> cache(std::chrono::seconds(60));
  cache.put("a", 1);
  EXPECT_EQ(cache.get("a"), 1);
  EXPECT_EQ(cache.get("b"), std::nullopt);
}

TEST(ExpiringCache, ZeroTtlStoresNothing) {
  ExpiringCache<std::string, int> cache(std::chrono::seconds(0));
  cache.put("a", 1);
  EXPECT_EQ(cache.get("a"), std::nullopt);
}

TEST(ExpiringCache, EntryExpiresAfterItsTtl) {
  ExpiringCache<std::string, int> cache(std::chrono::seconds(1));
  cache.put("a", 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(cache.get("a"), std::nullopt);
}

TEST(ExpiringCache, EraseForgetsAtOnce) {
  ExpiringCache<std::string, int> cache(std::chrono::seconds(60));
  cache.put("a", 1);
  cache.erase("a");
  EXPECT_EQ(cache.get("a"), std::nullopt);
}

TEST(ExpiringCache, StaysWithinItsBound) {
  ExpiringCache<int, int> cache(std::chrono::seconds(60), 3);
  for (int i = 0; i < 10; ++i) cache.put(i, i);
  int present = 0;
  for (int i = 0; i < 10; ++i) present += cache.get(i).has_value();
  EXPECT_LE(present, 3);
  EXPECT_EQ(cache.get(9), 9);  // the newest entry survives the clearing
}

}  // namespace portico::keymanager

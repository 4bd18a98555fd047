#include "common/bounded_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace portico {
namespace {

TEST(BoundedPool, RunsPostedTasks) {
  BoundedPool pool(2, 10);
  std::promise<int> answer;
  ASSERT_TRUE(pool.try_post([&] { answer.set_value(42); }));
  EXPECT_EQ(answer.get_future().get(), 42);
}

TEST(BoundedPool, RefusesBeyondTheQueue) {
  BoundedPool pool(1, 1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.try_post([&, released] {
    started.set_value();
    released.wait();
  }));
  started.get_future().wait();         // the one thread is busy
  EXPECT_TRUE(pool.try_post([] {}));   // one may wait
  EXPECT_FALSE(pool.try_post([] {}));  // the next is refused at once
  release.set_value();
}

TEST(BoundedPool, StopRunsWhatIsQueuedThenRefuses) {
  std::atomic<int> ran{0};
  BoundedPool pool(1, 100);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(pool.try_post([&] { ++ran; }));
  pool.stop();
  EXPECT_EQ(ran.load(), 20);
  EXPECT_FALSE(pool.try_post([&] { ++ran; }));
}

}  // namespace
}  // namespace portico

#include "gateway/deadline.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

namespace portico::gateway {
namespace {

using namespace std::chrono_literals;

TEST(Deadline, CallsItsActionOnceWhenItPasses) {
  boost::asio::io_context io;
  int calls = 0;
  Deadline deadline(io, [&] { ++calls; });
  deadline.expires_after(20ms);
  EXPECT_FALSE(deadline.expired());
  io.run_for(300ms);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(deadline.expired());
}

TEST(Deadline, MovedLaterItWaitsForTheNewTime) {
  boost::asio::io_context io;
  int calls = 0;
  Deadline deadline(io, [&] { ++calls; });
  deadline.expires_after(30ms);
  io.run_for(10ms);
  deadline.expires_after(10s);  // the armed timer fires at 30 ms and sleeps again
  io.run_for(200ms);
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(deadline.expired());
  deadline.expires_after(10ms);  // earlier than the armed time: re-armed
  io.restart();
  io.run_for(300ms);
  EXPECT_EQ(calls, 1);
}

TEST(Deadline, NeverMeansNoAction) {
  boost::asio::io_context io;
  int calls = 0;
  Deadline deadline(io, [&] { ++calls; });
  deadline.expires_after(20ms);
  deadline.expires_never();
  io.run_for(200ms);
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(deadline.expired());
}

TEST(Deadline, SetAgainAfterExpiringItExpiresAgain) {
  boost::asio::io_context io;
  int calls = 0;
  Deadline deadline(io, [&] { ++calls; });
  deadline.expires_after(10ms);
  io.run_for(200ms);
  ASSERT_EQ(calls, 1);
  deadline.expires_after(10ms);
  EXPECT_FALSE(deadline.expired());
  io.restart();
  io.run_for(200ms);
  EXPECT_EQ(calls, 2);
}

TEST(Deadline, GoneBeforeItsTimeFiresNothing) {
  boost::asio::io_context io;
  int calls = 0;
  auto deadline = std::make_unique<Deadline>(io, [&] { ++calls; });
  deadline->expires_after(10ms);
  deadline.reset();
  io.run_for(200ms);
  EXPECT_EQ(calls, 0);
}

TEST(Deadline, GoneWhileItsExpiryIsQueuedFiresNothing) {
  // The timer's handler can be queued already, its time passed, when the owner goes: the
  // cancellation cannot reach it then. Two timers past due are queued in order of expiry, so
  // the one that destroys the Deadline runs first and the Deadline's own handler after it.
  boost::asio::io_context io;
  int calls = 0;
  auto deadline = std::make_unique<Deadline>(io, [&] { ++calls; });
  deadline->expires_after(10ms);
  boost::asio::steady_timer earlier(io);
  earlier.expires_after(1ms);
  earlier.async_wait([&](const boost::system::error_code&) { deadline.reset(); });
  std::this_thread::sleep_for(50ms);
  io.run_for(200ms);
  EXPECT_EQ(deadline, nullptr);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace portico::gateway

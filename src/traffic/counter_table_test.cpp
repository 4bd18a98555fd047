#include "traffic/counter_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <map>
#include <thread>
#include <vector>

namespace portico::traffic {
namespace {

using Result = CounterTable::Result;

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kT0 = 1'700'000'040'000;  // a minute boundary (divisible by 60,000)

int admitted(CounterTable& table, std::uint64_t key, std::int64_t now, std::int64_t limit,
             int attempts) {
  int n = 0;
  for (int i = 0; i < attempts; ++i) {
    if (table.acquire(key, kMinute, now, limit, 1).result == Result::kAdmitted) ++n;
  }
  return n;
}

TEST(CounterTable, AdmitsExactlyTheLimitInOneWindow) {
  CounterTable table(1024);
  EXPECT_EQ(admitted(table, 42, kT0, 5, 20), 5);
  EXPECT_EQ(table.count(42, kMinute, kT0), 5);
}

TEST(CounterTable, RefusalCarriesTheEndOfTheEpochAlignedWindow) {
  CounterTable table(1024);
  admitted(table, 42, kT0 + 10'000, 1, 1);
  auto refused = table.acquire(42, kMinute, kT0 + 20'000, 1, 1);
  EXPECT_EQ(refused.result, Result::kRefused);
  EXPECT_EQ(refused.window_end_ms, kT0 + kMinute);
}

TEST(CounterTable, WindowsRollOverAtMultiplesOfTheirLength) {
  CounterTable table(1024);
  EXPECT_EQ(admitted(table, 7, kT0 + kMinute - 1, 3, 10), 3);
  // One millisecond later is a new window, even though the first began 59.999 s earlier.
  EXPECT_EQ(admitted(table, 7, kT0 + kMinute, 3, 10), 3);
  EXPECT_EQ(table.count(7, kMinute, kT0 + kMinute), 3);
}

TEST(CounterTable, ASlightlyLateClockJoinsTheNewerWindowInsteadOfResettingIt) {
  CounterTable table(1024);
  EXPECT_EQ(admitted(table, 7, kT0 + kMinute, 2, 1), 1);
  // A thread whose clock read came just before the boundary counts in the newer window.
  auto late = table.acquire(7, kMinute, kT0 + kMinute - 1, 2, 1);
  EXPECT_EQ(late.result, Result::kAdmitted);
  EXPECT_EQ(late.window_end_ms, kT0 + 2 * kMinute);
  EXPECT_EQ(table.acquire(7, kMinute, kT0 + kMinute, 2, 1).result, Result::kRefused);
}

TEST(CounterTable, ReleaseGivesBackWhatWasTaken) {
  CounterTable table(1024);
  auto first = table.acquire(9, kMinute, kT0, 1, 1);
  ASSERT_EQ(first.result, Result::kAdmitted);
  EXPECT_EQ(table.acquire(9, kMinute, kT0, 1, 1).result, Result::kRefused);
  table.release(first.ticket);
  EXPECT_EQ(table.acquire(9, kMinute, kT0, 1, 1).result, Result::kAdmitted);
}

TEST(CounterTable, ReleaseAfterTheWindowEndedLeavesTheNewWindowAlone) {
  CounterTable table(1024);
  auto old = table.acquire(9, kMinute, kT0, 5, 1);
  admitted(table, 9, kT0 + kMinute, 5, 2);
  table.release(old.ticket);
  EXPECT_EQ(table.count(9, kMinute, kT0 + kMinute), 2);
}

TEST(CounterTable, BytesAreAdmittedUntilTheCountReachesTheLimit) {
  CounterTable table(1024);
  // 1000 bytes allowed: a 600-byte request fits, a second goes over (it is admitted because
  // the count was still below), a third is refused.
  EXPECT_EQ(table.acquire(5, kMinute, kT0, 1000, 600).result, Result::kAdmitted);
  EXPECT_EQ(table.acquire(5, kMinute, kT0, 1000, 600).result, Result::kAdmitted);
  EXPECT_EQ(table.count(5, kMinute, kT0), 1200);
  EXPECT_EQ(table.acquire(5, kMinute, kT0, 1000, 1).result, Result::kRefused);
}

TEST(CounterTable, AddCountsWithoutALimit) {
  CounterTable table(1024);
  table.add(5, kMinute, kT0, 5000);
  table.add(5, kMinute, kT0, 5000);
  EXPECT_EQ(table.count(5, kMinute, kT0), 10000);
  EXPECT_EQ(table.acquire(5, kMinute, kT0, 10000, 0).result, Result::kRefused);
}

TEST(CounterTable, CountsSaturateInsteadOfWrapping) {
  CounterTable table(1024);
  table.add(5, kMinute, kT0, CounterTable::kMaxCount);
  table.add(5, kMinute, kT0, CounterTable::kMaxCount);
  EXPECT_EQ(table.count(5, kMinute, kT0), CounterTable::kMaxCount);
}

TEST(CounterTable, AFullTableFailsOpenAndCountsIt) {
  CounterTable table(16);
  for (std::uint64_t key = 1; key <= 16; ++key) {
    ASSERT_EQ(table.acquire(key, kMinute, kT0, 1, 1).result, Result::kAdmitted) << key;
  }
  EXPECT_EQ(table.untracked(), 0u);
  EXPECT_EQ(table.acquire(17, kMinute, kT0, 1, 1).result, Result::kUntracked);
  EXPECT_EQ(table.untracked(), 1u);
  EXPECT_EQ(table.slots_in_use(), 16u);
}

TEST(CounterTable, SlotsWhoseWindowEndedAreReusedAfterTheGrace) {
  CounterTable table(16, 1000);
  for (std::uint64_t key = 1; key <= 16; ++key) table.acquire(key, kMinute, kT0, 1, 1);
  // The windows have ended but the grace has not passed: still full.
  EXPECT_EQ(table.acquire(101, kMinute, kT0 + kMinute + 999, 1, 1).result, Result::kUntracked);
  // Once it has, new keys take the old slots.
  for (std::uint64_t key = 101; key <= 116; ++key) {
    ASSERT_EQ(table.acquire(key, kMinute, kT0 + kMinute + 1000, 1, 1).result, Result::kAdmitted)
        << key;
  }
  EXPECT_EQ(table.untracked(), 1u);
  // And an old key starts from zero when it comes back (once the new keys' windows are over).
  EXPECT_EQ(table.acquire(3, kMinute, kT0 + 3 * kMinute, 1, 1).result, Result::kAdmitted);
}

TEST(CounterTable, KeysAlikeInTheirLowBitsDoNotShareOneProbeChain) {
  // Keys are stable hashes anyone can compute; were the home slot the key's low bits, these
  // would all start one chain and all but kMaxProbe of them go untracked.
  CounterTable table(1024);
  for (std::uint64_t i = 1; i <= 2 * CounterTable::kMaxProbe; ++i) {
    ASSERT_EQ(table.acquire(i << 20, kMinute, kT0, 1, 1).result, Result::kAdmitted) << i;
  }
  EXPECT_EQ(table.untracked(), 0u);
}

TEST(CounterTable, CurrentWindowsListsLongWindowsThatAreStillOpen) {
  constexpr std::int64_t kHour = 60 * kMinute;
  constexpr std::int64_t kDay = 24 * kHour;
  const std::int64_t now = 20000 * kDay + 5 * kHour;
  CounterTable table(1024);
  table.add(1, kDay, now, 7);
  table.add(2, kHour, now, 3);
  table.add(3, kMinute, now, 4);        // too short
  table.add(4, kHour, now - kHour, 5);  // the previous hour: over
  table.add(5, kDay, now, 2);
  table.release(table.acquire(5, kDay, now, 10, 0).ticket);
  CounterTable::Ticket taken = table.acquire(6, kDay, now, 10, 1).ticket;
  table.release(taken);  // back to 0: nothing to keep

  auto windows = table.current_windows(kHour, now);
  std::map<std::uint64_t, CounterTable::OpenWindow> by_key;
  for (const auto& w : windows) by_key[w.key] = w;
  ASSERT_EQ(by_key.size(), 3u);
  EXPECT_EQ(by_key[1].window_ms, kDay);
  EXPECT_EQ(by_key[1].window_index, 20000);
  EXPECT_EQ(by_key[1].count, 7);
  EXPECT_EQ(by_key[2].window_ms, kHour);
  EXPECT_EQ(by_key[2].window_index, 20000 * 24 + 5);
  EXPECT_EQ(by_key[2].count, 3);
  EXPECT_EQ(by_key[5].count, 2);
}

TEST(CounterTable, ConcurrentThreadsAdmitExactlyTheLimit) {
  CounterTable table(1024);
  constexpr int kThreads = 4;
  constexpr int kAttempts = 20'000;
  constexpr std::int64_t kLimit = 1000;
  std::atomic<int> total{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      int mine = 0;
      for (int i = 0; i < kAttempts; ++i) {
        if (table.acquire(77, kMinute, kT0, kLimit, 1).result == Result::kAdmitted) ++mine;
      }
      total += mine;
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(total.load(), kLimit);
  EXPECT_EQ(table.count(77, kMinute, kT0), kLimit);
}

// Threads race across window boundaries and through a table far smaller than the key space,
// so slots are reclaimed under them all the time: no (key, window) may ever admit more than
// the limit.
TEST(CounterTable, NoWindowOverAdmitsWhileSlotsAreReclaimedConcurrently) {
  CounterTable table(64, 0);
  constexpr int kThreads = 4;
  constexpr std::int64_t kWindow = 10;
  constexpr std::int64_t kLimit = 3;
  constexpr std::uint64_t kKeys = 150;
  std::vector<std::map<std::pair<std::uint64_t, std::int64_t>, int>> per_thread(kThreads);
  // Every thread reads the same clock: a step of the clock is a barrier.
  std::barrier step(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::uint64_t x = 88172645463325252ULL + t;
      for (std::int64_t now = 1'000'000; now < 1'001'500; ++now) {
        for (int i = 0; i < 40; ++i) {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
          std::uint64_t key = 1 + x % kKeys;
          auto out = table.acquire(key, kWindow, now, kLimit, 1);
          if (out.result == Result::kAdmitted) ++per_thread[t][{key, out.window_end_ms}];
        }
        step.arrive_and_wait();
      }
    });
  }
  for (auto& t : threads) t.join();
  std::map<std::pair<std::uint64_t, std::int64_t>, int> merged;
  for (auto& m : per_thread) {
    for (auto& [k, n] : m) merged[k] += n;
  }
  // Far more (key, window) pairs than slots: slots changed hands all along.
  EXPECT_GT(merged.size(), 20 * table.capacity());
  for (auto& [k, n] : merged) EXPECT_LE(n, kLimit) << "key " << k.first << " window " << k.second;
}

}  // namespace
}  // namespace portico::traffic

#include "common/scheduling.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace portico::scheduling {
namespace {

// The calling thread's se.slice in nanoseconds from /proc; -1 on kernels that do not show it.
long long current_slice_ns() {
  std::ifstream in("/proc/thread-self/sched");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("se.slice", 0) != 0) continue;
    std::istringstream fields(line.substr(line.find(':') + 1));
    long long ns = -1;
    fields >> ns;
    return ns;
  }
  return -1;
}

TEST(Scheduling, AThreadGetsTheSliceItAsksForAndKeepsItsNiceValue) {
  std::thread([] {
    ASSERT_EQ(setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 3), 0);
    EXPECT_TRUE(request_slice(std::chrono::microseconds(100)));
    long long slice = current_slice_ns();
    if (slice >= 0) EXPECT_EQ(slice, 100000);  // shown from Linux 6.12
    EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), 3);
    EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
  }).join();
}

TEST(Scheduling, BackgroundWorkRunsInIdleTime) {
  std::thread([] {
    run_in_idle_time();
    EXPECT_TRUE(sched_getscheduler(0) == SCHED_IDLE ||
                getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())) == 10);
  }).join();
}

}  // namespace
}  // namespace portico::scheduling

#include "common/scheduling.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "common/log.h"

namespace portico::scheduling {
namespace {

// Where SCHED_IDLE is refused, nice 10: about a tenth of the CPU share of a thread at 0.
constexpr int kIdleNice = 10;

// The kernel's struct sched_attr (first version: 48 bytes); glibc 2.36 has no wrapper.
struct SchedAttr {
  std::uint32_t size;
  std::uint32_t sched_policy;
  std::uint64_t sched_flags;
  std::int32_t sched_nice;
  std::uint32_t sched_priority;
  std::uint64_t sched_runtime;  // SCHED_OTHER: the custom slice, in nanoseconds
  std::uint64_t sched_deadline;
  std::uint64_t sched_period;
};

}  // namespace

bool request_slice(std::chrono::microseconds slice) {
  SchedAttr attr{};
  attr.size = sizeof(attr);
  attr.sched_policy = SCHED_OTHER;
  // sched_setattr sets the nice value too: keep the thread's own.
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  attr.sched_nice = errno == 0 ? nice : 0;
  attr.sched_runtime = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(slice).count());
  if (syscall(SYS_sched_setattr, 0, &attr, 0) == 0) return true;
  spdlog::debug("time slice of {} us not granted: errno {}", slice.count(), errno);
  return false;
}

void run_in_idle_time() {
  sched_param none{};
  if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &none) == 0) return;
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kIdleNice) != 0)
    spdlog::debug("thread priority not lowered");
}

}  // namespace portico::scheduling

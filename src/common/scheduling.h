#pragma once
// How urgently the calling thread runs, for threads whose job says so: the I/O threads that
// answer requests ask to be put on the CPU at once when they wake; background work (a file
// written for the next start) runs only in idle time.
#include <chrono>

namespace portico::scheduling {

// Asks for time slices of `slice` (Linux 6.12 and later: EEVDF's custom slice, from 100 us to
// 100 ms). A thread with a shorter slice than the one running preempts it when it wakes,
// instead of waiting out the other's slice (0.75 ms and more): a request that arrives while a
// background thread of the process, or another process, holds the CPU is served at once.
// False when the kernel refuses; older kernels accept and ignore it.
bool request_slice(std::chrono::microseconds slice);

// SCHED_IDLE (the thread runs only on CPU time no other thread wants, and any waking thread
// takes the CPU from it at once), else nice 10. Lowering a thread's own priority needs no
// privilege.
void run_in_idle_time();

}  // namespace portico::scheduling

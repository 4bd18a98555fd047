#pragma once
// A few threads that run slow, CPU-bound work (password hashing) with a bounded queue: work
// beyond the queue is refused at once instead of piling up behind the threads.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace portico {

class BoundedPool {
 public:
  BoundedPool(int threads, std::size_t max_queued);
  ~BoundedPool();  // stop()
  BoundedPool(const BoundedPool&) = delete;
  BoundedPool& operator=(const BoundedPool&) = delete;

  // Queues `task`; false (and `task` is dropped) when max_queued tasks are already waiting or
  // the pool has stopped. Tasks must not throw.
  bool try_post(std::function<void()> task);
  // Runs what is queued, then joins the threads; later posts are refused. Those waiting on a
  // task (a suspended request, a blocked caller) always hear back. Idempotent.
  void stop();

 private:
  void run();

  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace portico

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "common/bounded_pool.h"
#include "http/message.h"

namespace portico::http {
namespace {

// Stands in for a session's I/O thread: what the Router posts back runs when the test says.
class FakeIoThread {
 public:
  Router::Post post() {
    return [this](std::function<void()> task) {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
      ready_.notify_all();
    };
  }
  // Runs posted tasks until `done` holds.
  void run_until(const std::function<bool()>& done) {
    while (!done()) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return !tasks_.empty(); });
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
};

std::shared_ptr<Request> request_for(std::string path) {
  auto request = std::make_shared<Request>();
  request->method = "GET";
  request->path = path;
  return request;
}

TEST(Offload, SuspendsTheHandlerAndRunsItAgainWithTheResultOnTheCallersThread) {
  BoundedPool pool(1, 4);
  Router router;
  std::atomic<int> runs{0};
  std::thread::id io_thread = std::this_thread::get_id();
  std::thread::id work_thread;
  router.add("GET", "/slow", [&](Request&) {
    ++runs;
    EXPECT_EQ(std::this_thread::get_id(), io_thread);
    std::string value = offload(pool, "answer", [&] {
      work_thread = std::this_thread::get_id();
      return std::string("42");
    });
    return Response::json(200, value);
  });
  FakeIoThread io;
  std::optional<Response> answer;
  router.dispatch_async(request_for("/slow"), io.post(), [&](Response r) { answer = r; });
  EXPECT_FALSE(answer);  // suspended: the I/O thread is free
  io.run_until([&] { return answer.has_value(); });
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, "42");
  EXPECT_EQ(runs.load(), 2);
  EXPECT_NE(work_thread, io_thread);
}

TEST(Offload, AnEffectAfterTheOffloadHappensOncePerRequest) {
  BoundedPool pool(1, 4);
  Router router;
  int counted = 0;
  router.add("GET", "/twice", [&](Request&) {
    offload(pool, "first", [] { return std::string("1"); });
    if (first_time("count")) ++counted;
    offload(pool, "second", [] { return std::string("2"); });
    return Response::json(200, "");
  });
  FakeIoThread io;
  std::optional<Response> answer;
  router.dispatch_async(request_for("/twice"), io.post(), [&](Response r) { answer = r; });
  io.run_until([&] { return answer.has_value(); });
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(counted, 1);
}

TEST(Offload, ADirectDispatchWaitsForThePool) {
  BoundedPool pool(1, 4);
  Router router;
  router.add("GET", "/slow", [&](Request&) {
    return Response::json(200, offload(pool, "answer", [] { return std::string("7"); }));
  });
  auto request = request_for("/slow");
  auto response = router.dispatch(*request);
  EXPECT_EQ(response.body, "7");
}

TEST(Offload, AFullQueueAnswers503AtOnce) {
  BoundedPool pool(1, 1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.try_post([&, released] {
    started.set_value();
    released.wait();
  }));
  started.get_future().wait();
  ASSERT_TRUE(pool.try_post([] {}));  // the queue is full now
  Router router;
  router.add("GET", "/slow", [&](Request&) {
    return Response::json(200, offload(pool, "answer", [] { return std::string("x"); }));
  });
  FakeIoThread io;
  std::optional<Response> answer;
  router.dispatch_async(request_for("/slow"), io.post(), [&](Response r) { answer = r; });
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 503);
  EXPECT_TRUE(answer->headers.get("Retry-After"));
  auto direct = request_for("/slow");
  EXPECT_EQ(router.dispatch(*direct).status, 503);
  release.set_value();
}

TEST(Offload, FailedWorkIsA500) {
  BoundedPool pool(1, 4);
  Router router;
  router.add("GET", "/broken", [&](Request&) {
    offload(pool, "answer", []() -> std::string { throw std::runtime_error("no memory"); });
    return Response::json(200, "");
  });
  FakeIoThread io;
  std::optional<Response> answer;
  router.dispatch_async(request_for("/broken"), io.post(), [&](Response r) { answer = r; });
  io.run_until([&] { return answer.has_value(); });
  EXPECT_EQ(answer->status, 500);
}

}  // namespace
}  // namespace portico::http

#include "events/sse_event_stream.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "events/sse.h"

namespace portico::events {
namespace {

using namespace std::chrono_literals;

// A control plane that answers each connection with the next scripted reply: a status and the
// body pieces it sends before the connection ends. Records what each connection asked for.
class ScriptedControlPlane {
 public:
  struct Reply {
    int status = 200;
    std::vector<std::string> pieces;
  };
  struct Request {
    std::string target;
    std::string last_event_id;
  };

  void add(Reply reply) {
    std::lock_guard lock(mutex_);
    replies_.push_back(std::move(reply));
  }

  SseTransport transport() {
    return [this](const std::string& target, const std::string& last_event_id,
                  std::chrono::milliseconds, const std::function<void(std::string_view)>& on_data,
                  const std::atomic<bool>& stop) {
      Reply reply;
      {
        std::unique_lock lock(mutex_);
        requests_.push_back({target, last_event_id});
        changed_.notify_all();
        // Out of script: the connection stays open and silent until the stream stops.
        if (replies_.empty()) {
          while (!stop) changed_.wait_for(lock, 5ms);
          return 200;
        }
        reply = std::move(replies_.front());
        replies_.pop_front();
      }
      for (const auto& piece : reply.pieces) on_data(piece);
      return reply.status;
    };
  }

  // Waits until `count` connections were made; their requests.
  std::vector<Request> wait_for_requests(std::size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 10s, [&] { return requests_.size() >= count; });
    return requests_;
  }

  void release() { changed_.notify_all(); }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Reply> replies_;
  std::vector<Request> requests_;
};

struct Seen {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Event> events;
  std::vector<LogPosition> resets;

  void wait_for(std::size_t events_count, std::size_t resets_count) {
    std::unique_lock lock(mutex);
    changed.wait_for(
        lock, 10s, [&] { return events.size() >= events_count && resets.size() >= resets_count; });
  }
};

SseStreamOptions fast_options() {
  SseStreamOptions o;
  o.min_backoff = 1ms;
  o.max_backoff = 5ms;
  return o;
}

void subscribe(SseEventStream& stream, Seen& seen, LogPosition from = {}) {
  stream.subscribe_from(
      std::move(from),
      [&](const Event& e) {
        std::lock_guard lock(seen.mutex);
        seen.events.push_back(e);
        seen.changed.notify_all();
      },
      [&](const LogPosition& p) {
        std::lock_guard lock(seen.mutex);
        seen.resets.push_back(p);
        seen.changed.notify_all();
      });
}

TEST(SseEventStreamTest, ResetThenEventsReachTheSubscriber) {
  ScriptedControlPlane cp;
  cp.add({200,
          {sse::format_reset({"ep", 10}),
           sse::format_event("ep", {11, "token.revoked", R"({"t":1})", 0}) +
               sse::format_event("ep", {12, "api.deployed", R"({"a":2})", 0})}});
  Seen seen;
  {
    SseEventStream stream(fast_options(), cp.transport());
    subscribe(stream, seen);
    seen.wait_for(2, 1);
    cp.release();
  }
  ASSERT_EQ(seen.resets.size(), 1u);
  EXPECT_EQ(seen.resets[0], (LogPosition{"ep", 10}));
  ASSERT_EQ(seen.events.size(), 2u);
  EXPECT_EQ(seen.events[0].type, "token.revoked");
  EXPECT_EQ(seen.events[0].sequence, 11u);
  EXPECT_EQ(seen.events[1].payload_json, R"({"a":2})");
}

TEST(SseEventStreamTest, FirstConnectionAsksFromItsPosition) {
  ScriptedControlPlane cp;
  SseEventStream stream(fast_options(), cp.transport());
  Seen seen;
  subscribe(stream, seen, {"ep", 5});
  auto requests = cp.wait_for_requests(1);
  ASSERT_GE(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/internal/data/v1/events?after=ep%3A5");
  EXPECT_EQ(requests[0].last_event_id, "ep:5");
}

TEST(SseEventStreamTest, ReconnectResumesAfterTheLastEventApplied) {
  ScriptedControlPlane cp;
  // The link breaks in the middle of the third event: it is asked for again.
  std::string third = sse::format_event("ep", {3, "c", "{}", 0});
  cp.add({200,
          {sse::format_reset({"ep", 1}) + sse::format_event("ep", {2, "b", "{}", 0}) +
           third.substr(0, 6)}});
  cp.add({200, {third}});
  SseEventStream stream(fast_options(), cp.transport());
  Seen seen;
  subscribe(stream, seen);
  seen.wait_for(2, 1);
  auto requests = cp.wait_for_requests(3);
  ASSERT_GE(requests.size(), 3u);
  EXPECT_EQ(requests[0].last_event_id, "");
  EXPECT_EQ(requests[1].last_event_id, "ep:2");
  EXPECT_EQ(requests[2].last_event_id, "ep:3");
  std::lock_guard lock(seen.mutex);
  ASSERT_EQ(seen.events.size(), 2u);
  EXPECT_EQ(seen.events[1].sequence, 3u);
  cp.release();
}

TEST(SseEventStreamTest, RefusedAndUnreachableConnectionsAreRetried) {
  ScriptedControlPlane cp;
  cp.add({0, {}});
  cp.add({401, {}});
  cp.add({503, {}});
  cp.add({200, {sse::format_reset({"ep", 9})}});
  SseEventStream stream(fast_options(), cp.transport());
  Seen seen;
  subscribe(stream, seen);
  seen.wait_for(0, 1);
  std::lock_guard lock(seen.mutex);
  ASSERT_EQ(seen.resets.size(), 1u);
  EXPECT_EQ(seen.resets[0], (LogPosition{"ep", 9}));
  cp.release();
}

TEST(SseEventStreamTest, ANewEpochResetsTheSubscriber) {
  ScriptedControlPlane cp;
  cp.add({200, {sse::format_reset({"old", 1}) + sse::format_event("old", {2, "a", "{}", 0})}});
  cp.add({200, {sse::format_reset({"new", 0}) + sse::format_event("new", {1, "b", "{}", 0})}});
  SseEventStream stream(fast_options(), cp.transport());
  Seen seen;
  subscribe(stream, seen);
  seen.wait_for(2, 2);
  auto requests = cp.wait_for_requests(2);
  EXPECT_EQ(requests[1].last_event_id, "old:2");
  std::lock_guard lock(seen.mutex);
  ASSERT_EQ(seen.resets.size(), 2u);
  EXPECT_EQ(seen.resets[1], (LogPosition{"new", 0}));
  EXPECT_EQ(seen.events.back().type, "b");
  cp.release();
}

TEST(SseEventStreamTest, PublishReachesOnlyThisNodesListeners) {
  ScriptedControlPlane cp;
  SseEventStream stream(fast_options(), cp.transport());
  Seen seen;
  subscribe(stream, seen);
  EXPECT_EQ(stream.publish("local", "{}"), 0u);
  std::lock_guard lock(seen.mutex);
  ASSERT_EQ(seen.events.size(), 1u);
  EXPECT_EQ(seen.events[0].sequence, 0u);
  cp.release();
}

}  // namespace
}  // namespace portico::events

#pragma once
// A gateway's event bus when it reaches the cluster only through the control plane's HTTPS
// URL: it follows the control plane's event stream (GET /internal/data/v1/events, server-sent
// events, sse.h), reconnects with backoff, resumes from the last position it applied, and
// turns the stream's reset into on_reset. No Redis, no database.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "events/event_bus.h"

namespace portico::events {

// Opens `path_and_query` with the Last-Event-ID header `last_event_id` (when not empty) and
// hands each piece of the response body to `on_data` until the body ends, the connection
// fails, nothing (not even a heartbeat) arrives for `idle_timeout`, or `stop` is set. Returns
// the HTTP status, 0 when the server was not reached. The gateway's HTTPS client
// (gateway/control_plane.h) is one.
using SseTransport = std::function<int(
    const std::string& path_and_query, const std::string& last_event_id,
    std::chrono::milliseconds idle_timeout, const std::function<void(std::string_view)>& on_data,
    const std::atomic<bool>& stop)>;

struct SseStreamOptions {
  std::string path = "/internal/data/v1/events";
  // The control plane sends a heartbeat every few seconds: silence this long is a dead link.
  std::chrono::milliseconds idle_timeout{15000};
  std::chrono::milliseconds min_backoff{250};  // first pause before reconnecting
  std::chrono::milliseconds max_backoff{10000};
};

class SseEventStream final : public EventBus {
 public:
  SseEventStream(SseStreamOptions options, SseTransport transport);
  ~SseEventStream() override;  // stops and joins every follower
  SseEventStream(const SseEventStream&) = delete;
  SseEventStream& operator=(const SseEventStream&) = delete;

  // A gateway publishes nothing to the cluster: this node's listeners get the event (sequence
  // 0), no one else. Returns 0.
  std::uint64_t publish(std::string type, std::string payload_json) override;
  // From the stream's current end; the first reset is not reported.
  void subscribe(Listener listener) override;
  // One follower (thread and connection) per subscription.
  void subscribe_from(LogPosition from, Listener listener, ResetListener on_reset) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::events

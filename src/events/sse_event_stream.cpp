#include "events/sse_event_stream.h"

#include <cctype>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "events/sse.h"

namespace portico::events {

namespace {

std::string percent_encode_query_value(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

struct SseEventStream::Impl {
  Impl(SseStreamOptions o, SseTransport t) : options(std::move(o)), transport(std::move(t)) {}

  const SseStreamOptions options;
  const SseTransport transport;
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable wake;
  std::vector<Listener> local_listeners;  // guarded by mutex
  std::vector<std::thread> followers;     // guarded by mutex

  // Sleeps for `pause` unless the stream stops meanwhile.
  void pause_for(std::chrono::milliseconds pause) {
    std::unique_lock lock(mutex);
    wake.wait_for(lock, pause, [&] { return stopping.load(); });
  }

  void follow(LogPosition position, const Listener& listener, const ResetListener& on_reset) {
    auto backoff = options.min_backoff;
    while (!stopping) {
      bool received = false;
      bool broken = false;
      sse::Parser parser;
      auto on_message = [&](const sse::Message& message) {
        auto at = sse::parse_position(message.id);
        if (!at || at->epoch.empty()) {
          spdlog::warn("event stream: ignoring a message with the id '{}'", message.id);
          return;
        }
        if (message.event == sse::kResetEvent) {
          position = *at;
          if (on_reset) on_reset(position);
          return;
        }
        position = *at;
        listener(Event{at->sequence, message.event, message.data, unix_now()});
      };
      auto on_data = [&](std::string_view bytes) {
        if (!broken && !parser.feed(bytes, on_message)) {
          spdlog::warn("event stream: a line exceeds the limit; reconnecting");
          broken = true;
        }
        if (!bytes.empty() && !broken) received = true;
      };
      std::string id = sse::position_id(position);
      std::string target = options.path + "?after=" + percent_encode_query_value(id);
      int status = 0;
      // A listener that throws must not end the follower: the stream is reopened from the
      // last position applied.
      try {
        status = transport(target, id, options.idle_timeout, on_data, stopping);
      } catch (const std::exception& e) {
        spdlog::error("event stream: {}", e.what());
      }
      if (stopping) return;
      if (status != 200) {
        spdlog::warn("event stream: the control plane answered {}; retrying in {} ms",
                     status == 0 ? std::string("nothing") : std::to_string(status),
                     backoff.count());
      } else {
        spdlog::info("event stream: the connection ended after {}; reconnecting",
                     sse::position_id(position));
      }
      // A stream that delivered something was healthy: reconnect at once, back off after that.
      if (received) backoff = options.min_backoff;
      pause_for(backoff);
      if (!received) backoff = std::min(backoff * 2, options.max_backoff);
    }
  }
};

SseEventStream::SseEventStream(SseStreamOptions options, SseTransport transport)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(transport))) {}

SseEventStream::~SseEventStream() {
  std::vector<std::thread> followers;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    followers.swap(impl_->followers);
  }
  impl_->wake.notify_all();
  for (auto& thread : followers) thread.join();
}

std::uint64_t SseEventStream::publish(std::string type, std::string payload_json) {
  Event local{0, std::move(type), std::move(payload_json), unix_now()};
  std::vector<Listener> listeners;
  {
    std::lock_guard lock(impl_->mutex);
    listeners = impl_->local_listeners;
  }
  for (auto& listener : listeners) listener(local);
  return 0;
}

void SseEventStream::subscribe(Listener listener) {
  subscribe_from({}, std::move(listener), nullptr);
}

void SseEventStream::subscribe_from(LogPosition from, Listener listener, ResetListener on_reset) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->stopping) return;
  impl_->local_listeners.push_back(listener);
  impl_->followers.emplace_back(
      [impl = impl_.get(), from = std::move(from), listener = std::move(listener),
       on_reset = std::move(on_reset)] { impl->follow(from, listener, on_reset); });
}

}  // namespace portico::events

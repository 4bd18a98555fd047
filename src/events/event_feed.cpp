#include "events/event_feed.h"

#include <deque>
#include <mutex>
#include <unordered_set>

namespace portico::events {

namespace {
class FeedReader;
}

struct EventFeed::State {
  State(std::size_t h, std::size_t m) : history(h), max_readers(m) {}

  const std::size_t history;
  const std::size_t max_readers;
  mutable std::mutex mutex;
  bool known = false;  // the bus has told us the log's position
  std::string epoch;
  // `recent` holds the events base + 1 .. last, every one of them: a reader at or after base
  // (in this epoch) can be served from memory.
  std::uint64_t base = 0;
  std::uint64_t last = 0;
  std::deque<Event> recent;
  std::unordered_set<FeedReader*> readers;

  void wake_all();
  void on_event(const Event& event);
  void on_reset(const LogPosition& position);
};

namespace {

class FeedReader final : public EventFeed::Reader {
 public:
  FeedReader(std::shared_ptr<EventFeed::State> state, LogPosition after)
      : state_(std::move(state)), position_(std::move(after)) {}

  ~FeedReader() override {
    std::lock_guard lock(state_->mutex);
    state_->readers.erase(this);
  }

  EventFeed::Batch take(std::size_t max_events) override {
    EventFeed::Batch batch;
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    if (!s.known) return batch;
    if (position_.epoch != s.epoch || position_.sequence < s.base) {
      position_ = {s.epoch, s.last};
      batch.reset = position_;
      return batch;
    }
    // A reader ahead of this feed (it followed another control plane further along) waits
    // for the feed to catch up.
    if (position_.sequence >= s.last) return batch;
    auto first = s.recent.begin() + static_cast<std::ptrdiff_t>(position_.sequence - s.base);
    auto count =
        std::min<std::size_t>(max_events, static_cast<std::size_t>(s.recent.end() - first));
    batch.events.assign(first, first + static_cast<std::ptrdiff_t>(count));
    position_.sequence = batch.events.back().sequence;
    return batch;
  }

  void on_change(std::function<void()> wake) override {
    std::lock_guard lock(state_->mutex);
    wake_ = std::move(wake);
  }

  // Called with the state's mutex held.
  void wake() {
    if (wake_) wake_();
  }

 private:
  std::shared_ptr<EventFeed::State> state_;
  LogPosition position_;
  std::function<void()> wake_;
};

}  // namespace

void EventFeed::State::wake_all() {
  for (auto* reader : readers) reader->wake();
}

void EventFeed::State::on_event(const Event& event) {
  // Sequence 0: a node's own event, delivered before it reaches the log; it comes again,
  // numbered, from the log.
  if (event.sequence == 0) return;
  std::lock_guard lock(mutex);
  if (!known || event.sequence <= last) return;
  if (event.sequence != last + 1) {
    // The bus resets rather than skip; should it ever skip, readers before the hole reset.
    recent.clear();
    base = event.sequence - 1;
  }
  recent.push_back(event);
  last = event.sequence;
  while (recent.size() > history) {
    recent.pop_front();
    ++base;
  }
  wake_all();
}

void EventFeed::State::on_reset(const LogPosition& position) {
  std::lock_guard lock(mutex);
  known = true;
  epoch = position.epoch;
  base = last = position.sequence;
  recent.clear();
  wake_all();
}

EventFeed::EventFeed(EventBus& bus, std::size_t history, std::size_t max_readers)
    : state_(std::make_shared<State>(std::max<std::size_t>(history, 1), max_readers)) {
  // The bus may outlive the feed: its callbacks hold the state, not the feed.
  bus.subscribe_from(
      {}, [state = state_](const Event& event) { state->on_event(event); },
      [state = state_](const LogPosition& position) { state->on_reset(position); });
}

EventFeed::~EventFeed() = default;

std::unique_ptr<EventFeed::Reader> EventFeed::open(LogPosition after) {
  std::lock_guard lock(state_->mutex);
  if (state_->readers.size() >= state_->max_readers) return nullptr;
  auto reader = std::make_unique<FeedReader>(state_, std::move(after));
  state_->readers.insert(reader.get());
  return reader;
}

std::size_t EventFeed::readers() const {
  std::lock_guard lock(state_->mutex);
  return state_->readers.size();
}

}  // namespace portico::events

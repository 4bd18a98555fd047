#include "gateway/deadline.h"

#include <ctime>

namespace portico::gateway {

using Clock = std::chrono::steady_clock;

std::chrono::steady_clock::time_point coarse_now() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return Clock::time_point(std::chrono::seconds(now.tv_sec) +
                           std::chrono::nanoseconds(now.tv_nsec));
}

struct Deadline::State {
  State(boost::asio::io_context& io, std::function<void()> callback)
      : timer(io), on_expiry(std::move(callback)) {}
  boost::asio::steady_timer timer;
  std::function<void()> on_expiry;  // emptied when the Deadline goes
  Clock::time_point deadline = Clock::time_point::max();
  Clock::time_point armed_for = Clock::time_point::max();  // max: the timer is not armed
  bool expired = false;
};

Deadline::Deadline(boost::asio::io_context& io, std::function<void()> on_expiry)
    : state_(std::make_shared<State>(io, std::move(on_expiry))) {}

Deadline::~Deadline() {
  state_->on_expiry = nullptr;
  state_->timer.cancel();
}

void Deadline::expires_after(Duration after) {
  State& s = *state_;
  s.deadline = coarse_now() + after;
  s.expired = false;
  // A later deadline waits for the armed timer to fire; only an earlier one re-arms it.
  if (s.deadline < s.armed_for) arm(state_);
}

void Deadline::expires_never() {
  State& s = *state_;
  s.deadline = Clock::time_point::max();
  s.expired = false;
  // The armed timer, if any, fires once more and finds nothing due.
}

bool Deadline::expired() const {
  return state_->expired;
}

void Deadline::arm(const std::shared_ptr<State>& state) {
  State& s = *state;
  s.armed_for = s.deadline;
  // Re-arming cancels the wait in progress: its handler sees operation_aborted and leaves the
  // state alone, as the new wait owns it now.
  s.timer.expires_at(s.deadline);
  s.timer.async_wait([state](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted || !state->on_expiry) return;
    State& s = *state;
    s.armed_for = Clock::time_point::max();
    if (s.deadline == Clock::time_point::max()) return;
    // The precise clock: the timer fired by it, and the coarse one may still be a tick behind.
    if (Clock::now() < s.deadline) return arm(state);
    s.expired = true;
    s.deadline = Clock::time_point::max();
    s.on_expiry();
  });
}

}  // namespace portico::gateway

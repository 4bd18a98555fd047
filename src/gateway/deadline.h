#pragma once
// Internal to src/gateway: the time limit on a connection's I/O, moved by a store.
//
// Beast's basic_stream arms a timer before every read and write and cancels it after: a
// timer-queue insertion, a removal under the reactor's lock and a cancelled handler through
// the scheduler, per operation; a proxied request does about eight. A Deadline keeps one
// timer armed for the earliest time it may expire. Moving the deadline later is a store;
// when the timer fires with the deadline moved, it sleeps again until the new one.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace portico::gateway {

// Now on steady_clock's scale, read from the kernel's coarse monotonic clock: up to a tick (a
// few ms) behind, for a few nanoseconds instead of a TSC read. For deadlines, idle times and
// suspensions, of which a request sets several; latencies are measured with steady_clock.
std::chrono::steady_clock::time_point coarse_now();

class Deadline {
 public:
  using Duration = std::chrono::steady_clock::duration;

  // `on_expiry` runs on the io_context's thread when the deadline passes; never after this
  // Deadline is destroyed.
  Deadline(boost::asio::io_context& io, std::function<void()> on_expiry);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Expires `after` from now (coarse: a few ms late at most).
  void expires_after(Duration after);
  void expires_never();
  // True once the deadline passed, until it is set again.
  bool expired() const;

 private:
  struct State;
  static void arm(const std::shared_ptr<State>& state);
  // Shared with the armed timer's handler: it may run after this Deadline is gone.
  std::shared_ptr<State> state_;
};

}  // namespace portico::gateway

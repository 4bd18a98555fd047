#pragma once
// A bounded single-producer / single-consumer queue: one I/O thread pushes, the flusher pops.
// Internal to src/analytics.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

namespace portico::analytics {

template <class T>
class SpscRing {
 public:
  // All slots are constructed here, so that push() only move-assigns into one.
  explicit SpscRing(std::size_t capacity)
      : capacity_(capacity == 0 ? 1 : capacity), slots_(new T[capacity_]) {}
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  std::size_t capacity() const { return capacity_; }

  // Producer only: the next free slot, to be filled in place, or null when full. The slot
  // still holds an earlier value, whose memory the new one may reuse. publish() makes it
  // visible to the consumer; a claimed slot that is not published is claimed again next time.
  T* claim() noexcept {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - cached_head_ >= capacity_) {
      // The cached head is stale at worst; read the consumer's real one only when it seems full,
      // so that the producer does not touch the consumer's cache line on every push.
      cached_head_ = head_.load(std::memory_order_acquire);
      if (tail - cached_head_ >= capacity_) return nullptr;
    }
    return &slots_[tail % capacity_];
  }
  void publish() noexcept {
    tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // Producer only. False (and the value untouched) when full.
  bool push(T&& value) noexcept {
    T* slot = claim();
    if (slot == nullptr) return false;
    *slot = std::move(value);
    publish();
    return true;
  }

  // Producer only: counts a value it could not push. A plain store, no read-modify-write:
  // only this thread writes the counter.
  void count_drop() noexcept {
    dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  // Consumer only: calls `sink(T&)` on every queued value where it lies, then frees their
  // slots; returns how many. The values stay in the slots for claim() to reuse.
  template <class Sink>
  std::size_t consume(Sink&& sink) {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    for (std::uint64_t i = head; i != tail; ++i) sink(slots_[i % capacity_]);
    head_.store(tail, std::memory_order_release);
    return static_cast<std::size_t>(tail - head);
  }

  // Either side; a snapshot.
  std::size_t size() const {
    return static_cast<std::size_t>(tail_.load(std::memory_order_acquire) -
                                    head_.load(std::memory_order_acquire));
  }

 private:
  static constexpr std::size_t kLine = 64;

  const std::size_t capacity_;
  std::unique_ptr<T[]> slots_;
  // Each side's index on its own cache line, so that the two threads do not false-share.
  alignas(kLine) std::atomic<std::uint64_t> head_{0};  // consumer writes
  alignas(kLine) std::atomic<std::uint64_t> tail_{0};  // producer writes
  std::uint64_t cached_head_ = 0;                      // producer's copy of head_
  std::atomic<std::uint64_t> dropped_{0};              // producer writes
};

}  // namespace portico::analytics

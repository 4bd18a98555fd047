#pragma once
// Internal to src/traffic: exact fixed-window counters in a fixed-capacity, lock-free,
// open-addressing table.
//
// A slot is three 64-bit atomics: the state (window tag and count in one word, so that "is the
// count below the limit, then add" is one CAS and a limit of N admits exactly N however many
// threads race), the key (a 64-bit hash) and the key's window length. The state is also the
// slot's lock: 0 is an empty slot, and a slot changes hands (an empty one claimed, or a stale
// one whose window has ended reused for another key) only while its state is held locked, for
// three stores. Whether a slot is stale follows from its state and window length alone, so the
// CAS that locks it also proves it is still stale.
//
// A key's home slot (where its probe chain starts) mixes in a seed random per table: keys are
// stable hashes that anyone can compute, and clients choose part of what they hash (users,
// IPs), so without it they could aim many keys at one chain.
//
// Windows are aligned to the Unix epoch: index = floor(now_ms / window_ms), as the
// reference's timeBatch(<unit>, 0). The state keeps the index modulo 2^24 - 1 as a tag (plus
// one, so that no state is 0) and a 40-bit count (requests or bytes, saturating at
// kMaxCount).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace portico::traffic {

class CounterTable {
 public:
  // Counts saturate here; a limit above it is never reached (the policy compiler treats such
  // limits as unlimited). 2^40 - 2: one terabyte of bandwidth per window.
  static constexpr std::int64_t kMaxCount = (std::int64_t{1} << 40) - 2;
  // How far a key's slot may be from its home slot; past this the table counts as full.
  static constexpr std::size_t kMaxProbe = 128;

  // `slots` is rounded up to a power of two (at least 16). A slot goes to another key only
  // `reclaim_grace_ms` after its last window ended, so that a thread whose clock read is a
  // little behind still finds the window it counts in.
  explicit CounterTable(std::size_t slots, std::int64_t reclaim_grace_ms = 1000);

  enum class Result : std::uint8_t {
    kAdmitted,
    kRefused,    // the window's count had reached the limit
    kUntracked,  // no slot could be had (table full) or it stayed contended: fail open
  };

  // What acquire() added, so that release() can give it back. Trivial, so that a decision's
  // array of them costs nothing until used.
  struct Ticket {
    std::uint64_t key;
    std::uint32_t slot;
    std::uint32_t tag;
    std::int64_t amount;
  };

  struct Outcome {
    Result result = Result::kUntracked;
    std::int64_t window_end_ms = 0;  // end of the window that admitted or refused
    Ticket ticket{};                 // kAdmitted only
  };

  // Admits when the count of `key`'s current window is below `limit`, and then adds `amount`
  // (1 for a request, the request's bytes for a bandwidth limit). `key` must fold in the
  // window length: one key, one window length.
  Outcome acquire(std::uint64_t key, std::int64_t window_ms, std::int64_t now_ms,
                  std::int64_t limit, std::int64_t amount);

  // Takes back what an admitted acquire() added, if its window is still the current one.
  void release(const Ticket& ticket);

  // Adds `amount` to the current window without a limit (bytes reported after a response).
  void add(std::uint64_t key, std::int64_t window_ms, std::int64_t now_ms, std::int64_t amount);

  // The count of `key`'s window at `now_ms`; 0 when it has none. Never claims a slot.
  std::int64_t count(std::uint64_t key, std::int64_t window_ms, std::int64_t now_ms) const;

  // One window's count, as current_windows() reads it.
  struct OpenWindow {
    std::uint64_t key = 0;
    std::int64_t window_ms = 0;
    std::int64_t window_index = 0;  // floor(start / window_ms)
    std::int64_t count = 0;
  };

  // The counts above 0 of every key whose window is at least `min_window_ms` long and is
  // current at `now_ms` (or just ahead of it, opened by a thread with a later clock). A
  // snapshot taken slot by slot while others count on; locked slots are skipped.
  std::vector<OpenWindow> current_windows(std::int64_t min_window_ms, std::int64_t now_ms) const;

  std::size_t capacity() const { return mask_ + 1; }
  // Operations let through uncounted (no slot, or a slot that stayed locked).
  std::uint64_t untracked() const { return untracked_.load(std::memory_order_relaxed); }
  // Slots ever claimed from empty (reused slots are not counted twice).
  std::uint64_t slots_in_use() const { return in_use_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    std::atomic<std::uint64_t> state{0};  // 0: empty; kLocked: changing hands
    std::atomic<std::uint64_t> key{0};
    std::atomic<std::int64_t> window_ms{0};
  };

  static constexpr std::size_t kNotFound = ~std::size_t{0};

  std::size_t home_of(std::uint64_t key) const;
  std::size_t find_or_claim(std::uint64_t key, std::int64_t window_ms, std::int64_t now_ms);
  std::size_t find(std::uint64_t key) const;
  bool take_over(Slot& slot, std::uint64_t observed_state, std::uint64_t key,
                 std::int64_t window_ms, std::int64_t now_ms);
  bool stale(std::uint64_t state, std::int64_t window_ms, std::int64_t now_ms) const;
  Outcome update(std::uint64_t key, std::int64_t window_ms, std::int64_t now_ms, std::int64_t limit,
                 std::int64_t amount);

  std::unique_ptr<Slot[]> slots_;
  std::size_t mask_;
  std::uint64_t home_seed_;
  std::int64_t reclaim_grace_ms_;
  std::atomic<std::uint64_t> untracked_{0};
  std::atomic<std::uint64_t> in_use_{0};
};

}  // namespace portico::traffic

#include "traffic/counter_table.h"

#include <algorithm>
#include <bit>
#include <optional>
#include <random>

namespace portico::traffic {
namespace {

constexpr int kCountBits = 40;
constexpr std::uint64_t kCountMask = (std::uint64_t{1} << kCountBits) - 1;
// Tags are window indexes modulo kTagModulus, stored plus one (1..kTagModulus): 0 is free
// for "empty" and kLocked's tag bits never hold a count that large.
constexpr std::uint64_t kTagModulus = (std::uint64_t{1} << 24) - 1;
constexpr std::uint64_t kEmpty = 0;
constexpr std::uint64_t kLocked = ~std::uint64_t{0};
// How many windows ahead a stored window may be and still be joined: threads whose clock
// reads are a little apart straddle a boundary, never more than one or two windows.
constexpr std::int64_t kMaxAhead = 2;
// A slot changes hands in three stores; a wait longer than this means the thread doing it
// was descheduled, and the waiter fails open rather than block.
constexpr int kMaxSpins = 2000;
// Lookups restarted because a chain changed under them before one gives up (fail open).
constexpr int kMaxRestarts = 8;

std::uint64_t tag_of(std::uint64_t state) {
  return state >> kCountBits;
}
std::int64_t count_of(std::uint64_t state) {
  return static_cast<std::int64_t>(state & kCountMask);
}
std::uint64_t make_state(std::uint64_t tag, std::int64_t count) {
  return (tag << kCountBits) | static_cast<std::uint64_t>(count);
}

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until the slot's state is not kLocked; nullopt when that takes too long.
std::optional<std::uint64_t> settled_state(const std::atomic<std::uint64_t>& state) {
  for (int spins = 0; spins <= kMaxSpins; ++spins) {
    std::uint64_t s = state.load(std::memory_order_acquire);
    if (s != kLocked) return s;
    cpu_relax();
  }
  return std::nullopt;
}

// The window of `now_ms` and where a stored tag stands relative to it.
struct Window {
  std::int64_t index = 0;
  std::uint64_t tag = 0;

  Window(std::int64_t window_ms, std::int64_t now_ms) {
    index = std::max<std::int64_t>(now_ms, 0) / window_ms;
    tag = static_cast<std::uint64_t>(index) % kTagModulus + 1;
  }

  // Windows the stored one is ahead of this one: 0 the same, 1..kMaxAhead a window a thread
  // with a slightly later clock opened (joined, never reset, so that a late reader cannot wipe
  // a newer window); -windows behind when it is over.
  std::int64_t relation(std::uint64_t stored_tag) const {
    auto behind = static_cast<std::int64_t>((tag + kTagModulus - stored_tag) % kTagModulus);
    if (behind == 0) return 0;
    auto ahead = static_cast<std::int64_t>(kTagModulus) - behind;
    if (ahead <= kMaxAhead) return ahead;
    return -behind;
  }
};

}  // namespace

CounterTable::CounterTable(std::size_t slots, std::int64_t reclaim_grace_ms)
    : home_seed_(std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32)),
      reclaim_grace_ms_(std::max<std::int64_t>(reclaim_grace_ms, 0)) {
  std::size_t capacity = std::bit_ceil(std::max<std::size_t>(slots, 16));
  slots_ = std::make_unique<Slot[]>(capacity);
  mask_ = capacity - 1;
}

// murmur3's finalizer over key and seed: every bit of both reaches the low bits that pick
// the slot, so a client who can compute keys still cannot tell which of them share a chain.
std::size_t CounterTable::home_of(std::uint64_t key) const {
  std::uint64_t x = key ^ home_seed_;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return static_cast<std::size_t>(x) & mask_;
}

// Over since at least the grace: its count no longer matters to anyone. Decided from the
// state and the window length alone (both fixed while the state is), so a CAS on the state
// that was judged is proof that it is still stale.
bool CounterTable::stale(std::uint64_t state, std::int64_t window_ms, std::int64_t now_ms) const {
  if (window_ms <= 0) return false;
  const Window window(window_ms, now_ms);
  std::int64_t relation = window.relation(tag_of(state));
  if (relation >= 0) return false;
  std::int64_t end_ms = (window.index + relation + 1) * window_ms;
  return end_ms + reclaim_grace_ms_ <= now_ms;
}

// Locks a slot on the state it was judged by (empty, or stale), gives it the key and opens
// the current window with a count of 0. Threads of the slot's old key fail their CAS on the
// locked state and, once it settles, see another key and look elsewhere (their window was
// over); threads looking for the new key wait for it and find it.
bool CounterTable::take_over(Slot& slot, std::uint64_t observed_state, std::uint64_t key,
                             std::int64_t window_ms, std::int64_t now_ms) {
  if (!slot.state.compare_exchange_strong(observed_state, kLocked, std::memory_order_acq_rel))
    return false;
  if (observed_state == kEmpty) in_use_.fetch_add(1, std::memory_order_relaxed);
  slot.window_ms.store(window_ms, std::memory_order_relaxed);
  slot.key.store(key, std::memory_order_relaxed);
  slot.state.store(make_state(Window(window_ms, now_ms).tag, 0), std::memory_order_release);
  return true;
}

// Linear probing from the key's home slot. A key always sits before the first empty slot of
// its chain, because slots never become empty again: a stale slot is handed to a new key in
// place. The new key takes the first stale slot met before the first empty one, so chains
// stay short under churn; with neither within kMaxProbe the table is full.
std::size_t CounterTable::find_or_claim(std::uint64_t key, std::int64_t window_ms,
                                        std::int64_t now_ms) {
  const std::size_t home = home_of(key);
  const std::size_t reach = std::min(kMaxProbe, mask_ + 1);
  for (int restart = 0; restart < kMaxRestarts; ++restart) {
    Slot* reusable = nullptr;
    std::uint64_t reusable_state = 0;
    bool restart_scan = false;
    for (std::size_t i = 0; i < reach && !restart_scan; ++i) {
      const std::size_t index = (home + i) & mask_;
      Slot& slot = slots_[index];
      for (;;) {  // until this slot is read consistently
        auto state = settled_state(slot.state);
        if (!state) return kNotFound;
        if (*state == kEmpty) {
          Slot& target = reusable != nullptr ? *reusable : slot;
          std::uint64_t expected = reusable != nullptr ? reusable_state : kEmpty;
          if (take_over(target, expected, key, window_ms, now_ms))
            return static_cast<std::size_t>(&target - slots_.get());
          if (reusable == nullptr) continue;  // claimed by another thread, perhaps for this key
          restart_scan = true;                // the stale slot changed under us: look again
          break;
        }
        std::uint64_t k = slot.key.load(std::memory_order_acquire);
        std::int64_t w = slot.window_ms.load(std::memory_order_acquire);
        // Key and window length belong to this state only if it did not change meanwhile.
        if (slot.state.load(std::memory_order_acquire) != *state) continue;
        if (k == key) return index;
        if (reusable == nullptr && stale(*state, w, now_ms)) {
          reusable = &slot;
          reusable_state = *state;
        }
        break;
      }
    }
    if (restart_scan) continue;
    if (reusable == nullptr) return kNotFound;
    if (take_over(*reusable, reusable_state, key, window_ms, now_ms))
      return static_cast<std::size_t>(reusable - slots_.get());
  }
  return kNotFound;
}

std::size_t CounterTable::find(std::uint64_t key) const {
  const std::size_t home = home_of(key);
  const std::size_t reach = std::min(kMaxProbe, mask_ + 1);
  for (std::size_t i = 0; i < reach; ++i) {
    const std::size_t index = (home + i) & mask_;
    const Slot& slot = slots_[index];
    auto state = settled_state(slot.state);
    if (!state || *state == kEmpty) break;
    if (slot.key.load(std::memory_order_acquire) == key) return index;
  }
  return kNotFound;
}

CounterTable::Outcome CounterTable::update(std::uint64_t key, std::int64_t window_ms,
                                           std::int64_t now_ms, std::int64_t limit,
                                           std::int64_t amount) {
  Outcome out;
  if (window_ms <= 0) window_ms = 1000;
  amount = std::clamp<std::int64_t>(amount, 0, kMaxCount);
  const Window window(window_ms, now_ms);
  for (int restart = 0; restart < kMaxRestarts; ++restart) {
    std::size_t index = find_or_claim(key, window_ms, now_ms);
    if (index == kNotFound) break;
    Slot& slot = slots_[index];
    for (;;) {
      auto state = settled_state(slot.state);
      if (!state) {
        restart = kMaxRestarts;
        break;
      }
      // Read after the state: a slot handed to another key publishes the key before the state
      // it unlocks with, so a state of the new key is never taken for ours; and a hand-over
      // that starts after this read fails our CAS.
      if (slot.key.load(std::memory_order_acquire) != key) break;
      std::int64_t relation = window.relation(tag_of(*state));
      std::uint64_t tag = window.tag;
      std::int64_t current = 0;
      std::int64_t index_used = window.index;
      if (relation >= 0) {  // the current window, or one just ahead: count on in it
        tag = tag_of(*state);
        current = count_of(*state);
        index_used += relation;
      }
      out.window_end_ms = (index_used + 1) * window_ms;
      if (current >= limit) {
        out.result = Result::kRefused;
        return out;
      }
      std::int64_t next = std::min(current + amount, kMaxCount);
      bool changed = relation < 0 || next != current;
      if (!changed || slot.state.compare_exchange_weak(*state, make_state(tag, next),
                                                       std::memory_order_acq_rel)) {
        out.result = Result::kAdmitted;
        out.ticket = Ticket{key, static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(tag),
                            next - current};
        return out;
      }
    }
    // The slot went to another key under us (our window was over): look the key up again.
  }
  untracked_.fetch_add(1, std::memory_order_relaxed);
  out.result = Result::kUntracked;
  return out;
}

CounterTable::Outcome CounterTable::acquire(std::uint64_t key, std::int64_t window_ms,
                                            std::int64_t now_ms, std::int64_t limit,
                                            std::int64_t amount) {
  return update(key, window_ms, now_ms, limit, amount);
}

void CounterTable::add(std::uint64_t key, std::int64_t window_ms, std::int64_t now_ms,
                       std::int64_t amount) {
  if (amount <= 0) return;
  update(key, window_ms, now_ms, kMaxCount + 1, amount);
}

void CounterTable::release(const Ticket& ticket) {
  if (ticket.amount <= 0 || ticket.slot > mask_) return;
  Slot& slot = slots_[ticket.slot];
  std::uint64_t state = slot.state.load(std::memory_order_acquire);
  for (;;) {
    // Locked, or handed over: the window ended, there is nothing left to give back.
    if (state == kLocked || state == kEmpty) return;
    if (slot.key.load(std::memory_order_acquire) != ticket.key) return;
    if (tag_of(state) != ticket.tag) return;  // rolled over to a new window
    std::int64_t count = count_of(state);
    std::int64_t next = count > ticket.amount ? count - ticket.amount : 0;
    if (slot.state.compare_exchange_weak(state, make_state(ticket.tag, next),
                                         std::memory_order_acq_rel))
      return;
  }
}

std::int64_t CounterTable::count(std::uint64_t key, std::int64_t window_ms,
                                 std::int64_t now_ms) const {
  if (window_ms <= 0) window_ms = 1000;
  std::size_t index = find(key);
  if (index == kNotFound) return 0;
  std::uint64_t state = slots_[index].state.load(std::memory_order_acquire);
  if (state == kLocked || state == kEmpty) return 0;
  return Window(window_ms, now_ms).relation(tag_of(state)) == 0 ? count_of(state) : 0;
}

std::vector<CounterTable::OpenWindow> CounterTable::current_windows(std::int64_t min_window_ms,
                                                                    std::int64_t now_ms) const {
  std::vector<OpenWindow> out;
  for (std::size_t index = 0; index <= mask_; ++index) {
    const Slot& slot = slots_[index];
    std::uint64_t state = slot.state.load(std::memory_order_acquire);
    std::uint64_t key = 0;
    std::int64_t window_ms = 0;
    // Key and window length belong to a state only if it did not change meanwhile; a slot
    // counting fast may take a few reads (and is skipped if it never settles: the next
    // snapshot has it).
    bool consistent = false;
    for (int attempt = 0; attempt < kMaxRestarts && !consistent; ++attempt) {
      if (state == kEmpty || state == kLocked) break;
      key = slot.key.load(std::memory_order_acquire);
      window_ms = slot.window_ms.load(std::memory_order_acquire);
      std::uint64_t again = slot.state.load(std::memory_order_acquire);
      consistent = again == state;
      state = again;
    }
    if (!consistent || count_of(state) == 0) continue;
    if (window_ms < min_window_ms || window_ms <= 0) continue;
    const Window window(window_ms, now_ms);
    std::int64_t relation = window.relation(tag_of(state));
    if (relation < 0) continue;  // over: nobody counts in it any more
    out.push_back({key, window_ms, window.index + relation, count_of(state)});
  }
  return out;
}

}  // namespace portico::traffic

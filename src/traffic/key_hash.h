#pragma once
// Internal to src/traffic: counter keys as 64-bit hashes of the pieces that identify a
// counter, built on the request path without building a key string.
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace portico::traffic {

// The seed of counter keys: a constant, so that every gateway, every restart and the traffic
// managers name a counter alike (cluster-wide throttling leases quota by key). Clients cannot
// aim keys at one probe chain all the same: the counter table mixes a random per-table seed
// into the home slot, not into the key.
inline constexpr std::uint64_t kCounterKeySeed = 0x706f727469636f31ULL;

// A seeded streaming hash. Pieces are length-prefixed, so ("ab", "c") and ("a", "bc") differ.
// Never returns 0 (an empty slot).
class KeyHasher {
 public:
  explicit KeyHasher(std::uint64_t seed) : state_(seed ^ 0x2d358dccaa6c78a5ULL) {}

  KeyHasher& add(std::uint64_t value) {
    state_ = std::rotl((state_ ^ value) * 0x9e3779b97f4a7c15ULL, 29) * 0xbf58476d1ce4e5b9ULL;
    return *this;
  }

  KeyHasher& add(std::string_view piece) {
    add(static_cast<std::uint64_t>(piece.size()));
    const char* p = piece.data();
    std::size_t n = piece.size();
    while (n >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      add(word);
      p += 8;
      n -= 8;
    }
    if (n > 0) {
      std::uint64_t word = 0;
      std::memcpy(&word, p, n);
      add(word);
    }
    return *this;
  }

  std::uint64_t finish() const {
    // murmur3's finalizer: every input bit reaches the low bits that pick the home slot.
    std::uint64_t x = state_;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x == 0 ? 1 : x;
  }

 private:
  std::uint64_t state_;
};

}  // namespace portico::traffic

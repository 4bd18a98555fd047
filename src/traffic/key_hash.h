#pragma once
// Internal to src/traffic: counter keys as 64-bit hashes of the pieces that identify a
// counter, built on the request path without building a key string.
//
// Keys are stable: every gateway, every restart and every traffic manager computes the same
// key for the same counter, so that counts can be persisted and shared across the cluster (on
// the wire and in storage as 16 lowercase hex digits). Keeping clients from aiming keys at one
// probe chain is the counter table's business: it mixes a random seed of its own into the
// home slot, not into the key.
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace portico::traffic {

// The seed of every counter key. A constant, never random: see above.
inline constexpr std::uint64_t kCounterKeySeed = 0x706f727469636f31ULL;  // "portico1"

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

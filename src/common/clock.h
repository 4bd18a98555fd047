#pragma once
#include <chrono>
#include <cstdint>

namespace portico {

// Wall-clock time in whole seconds since the Unix epoch (token claims, stored expiries).
inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace portico

#pragma once
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

namespace portico {

// Wall-clock time in whole seconds since the Unix epoch (token claims, stored expiries).
inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Wall-clock time in milliseconds since the Unix epoch (throttling windows).
inline std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ISO 8601 in UTC, "2026-11-23T05:00:00Z": the time format of the REST APIs' documents.
inline std::string iso_time(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace portico

#pragma once
// The JSON-lines file sink's line for one event, and the time formats of the analytics API.
// Internal to src/analytics.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "analytics/analytics.h"

namespace portico::analytics {

// One event as one JSON object (no newline) with the reference's field names, and the
// gateway that served it as "nodeId" when `node_id` is not empty.
std::string event_json_line(const Event& event, std::string_view node_id = {});

// ISO 8601 in UTC with milliseconds, "2022-01-20T03:34:36.451Z": the reference's
// requestTimestamp.
std::string iso_time_ms(std::int64_t unix_ms);

// "1700000000000" (unix ms) or ISO 8601: "2026-01-02", "2026-01-02T03:04Z",
// "2026-01-02T03:04:05.678+02:00" (a space stands for '+', as an unencoded '+' in a query
// string arrives). Unix ms; nullopt when it is neither.
std::optional<std::int64_t> parse_time_ms(std::string_view text);

}  // namespace portico::analytics

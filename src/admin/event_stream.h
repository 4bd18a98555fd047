#pragma once
// Internal to src/admin: the internal data API's event stream, GET /internal/data/v1/events
// (docs/events.md): the cluster's event log as server-sent events, from a position.
#include <chrono>
#include <string>

#include "events/event_feed.h"
#include "http/message.h"

namespace portico::admin {

// The streaming response for an authenticated request: resumes after Last-Event-ID, else after
// the `after` query parameter (both "<epoch>:<sequence>"; absent or empty: a reset first).
// ApiError 400 for a malformed position, 503 when the feed serves its maximum of streams.
// `credential_id`: the caller's own gateway credential (empty: the shared one); the stream ends
// when that credential is revoked.
http::Response event_stream_response(events::EventFeed& feed, const http::Request& request,
                                     std::chrono::milliseconds heartbeat,
                                     std::string credential_id = {});

}  // namespace portico::admin

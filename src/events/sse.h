#pragma once
// The cluster's event log as server-sent events (the WHATWG text/event-stream format): what
// the control plane's stream writes and a gateway's SseEventStream reads.
//
//   id: <epoch>:<sequence>        an event: `event` is its type, `data` its payload (JSON,
//   event: token.revoked          one line)
//   data: {"tokenId":"..."}
//
//   id: <epoch>:<sequence>        a reset: the events after the reader's position cannot all
//   event: reset                  be delivered; reload everything, then expect the events
//   data: {}                      after this position
//
//   : keep-alive                  a comment, so that idle proxies keep the stream open
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "events/event_bus.h"

namespace portico::events::sse {

inline constexpr std::string_view kResetEvent = "reset";
inline constexpr std::string_view kHeartbeat = ": keep-alive\n\n";

// "<epoch>:<sequence>"; an empty position is "".
std::string position_id(const LogPosition& position);
// The inverse of position_id; "" is the empty position; nullopt when malformed.
std::optional<LogPosition> parse_position(std::string_view id);

std::string format_event(const std::string& epoch, const Event& event);
std::string format_reset(const LogPosition& position);

struct Message {
  std::string id;
  std::string event;
  std::string data;
};

// Reads a text/event-stream piece by piece, however the pieces cut it. Lines end with LF,
// CRLF or CR; comments and unknown fields are skipped; a message is dispatched at its blank
// line.
class Parser {
 public:
  explicit Parser(std::size_t max_line_bytes = 1024 * 1024) : max_line_bytes_(max_line_bytes) {}
  // False when a line exceeds the limit (the stream should be dropped).
  bool feed(std::string_view bytes, const std::function<void(const Message&)>& on_message);

 private:
  void line_done(std::string_view line, const std::function<void(const Message&)>& on_message);

  std::size_t max_line_bytes_;
  std::string line_;
  Message message_;
  bool has_fields_ = false;
  bool has_data_ = false;
  bool after_cr_ = false;
};

}  // namespace portico::events::sse

#include "events/sse.h"

#include <charconv>

namespace portico::events::sse {

std::string position_id(const LogPosition& position) {
  if (position.epoch.empty()) return {};
  return position.epoch + ":" + std::to_string(position.sequence);
}

std::optional<LogPosition> parse_position(std::string_view id) {
  if (id.empty()) return LogPosition{};
  auto colon = id.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == id.size()) return std::nullopt;
  LogPosition position;
  position.epoch = std::string(id.substr(0, colon));
  auto digits = id.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), position.sequence);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return position;
}

namespace {

// A data field may not hold a line break: each line of the value becomes a data line, which
// the reader joins with LF again.
void append_data(std::string& out, std::string_view value) {
  for (;;) {
    auto end = value.find_first_of("\r\n");
    out += "data: ";
    out += value.substr(0, end);
    out += '\n';
    if (end == std::string_view::npos) return;
    value.remove_prefix(end + (value.substr(end, 2) == "\r\n" ? 2 : 1));
  }
}

}  // namespace

std::string format_event(const std::string& epoch, const Event& event) {
  std::string out = "id: " + position_id({epoch, event.sequence}) + "\nevent: " + event.type + "\n";
  append_data(out, event.payload_json);
  out += '\n';
  return out;
}

std::string format_reset(const LogPosition& position) {
  return "id: " + position_id(position) + "\nevent: " + std::string(kResetEvent) + "\ndata: {}\n\n";
}

bool Parser::feed(std::string_view bytes, const std::function<void(const Message&)>& on_message) {
  for (char c : bytes) {
    if (c == '\n' && after_cr_) {
      after_cr_ = false;  // the LF of a CRLF
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      line_done(line_, on_message);
      line_.clear();
      continue;
    }
    if (line_.size() >= max_line_bytes_) return false;
    line_ += c;
  }
  return true;
}

void Parser::line_done(std::string_view line,
                       const std::function<void(const Message&)>& on_message) {
  if (line.empty()) {
    if (has_fields_) on_message(message_);
    message_ = {};
    has_fields_ = false;
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // a comment
  auto colon = line.find(':');
  std::string_view name = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (name == "data") {
    if (has_data_) message_.data += '\n';
    message_.data += value;
    has_data_ = true;
  } else if (name == "event") {
    message_.event = std::string(value);
  } else if (name == "id") {
    message_.id = std::string(value);
  } else {
    return;  // retry and unknown fields
  }
  has_fields_ = true;
}

}  // namespace portico::events::sse

#include "admin/event_stream.h"

#include <boost/json/parse.hpp>

#include "common/api_error.h"
#include "events/event_types.h"
#include "events/sse.h"

namespace portico::admin {
namespace {

namespace sse = events::sse;

// Events written per wake-up: a gateway far behind catches up in chunks of this many, and
// the connection's thread serves others in between.
constexpr std::size_t kEventsPerChunk = 256;
constexpr std::size_t kMaxPositionLength = 128;

class EventStreamBody final : public http::BodyStream {
 public:
  // Events come in the epoch of the position the reader resumes from, until a reset.
  EventStreamBody(std::unique_ptr<events::EventFeed::Reader> reader, std::string epoch,
                  std::chrono::milliseconds heartbeat, std::string credential_id)
      : reader_(std::move(reader)),
        heartbeat_(heartbeat),
        epoch_(std::move(epoch)),
        credential_id_(std::move(credential_id)) {}

  void start(std::function<void()> wake) override { reader_->on_change(std::move(wake)); }

  std::optional<std::string> next() override {
    std::string out;
    if (revoked_) return std::nullopt;
    if (!reader_) return out;
    auto batch = reader_->take(kEventsPerChunk);
    if (batch.reset) {
      epoch_ = batch.reset->epoch;
      out += sse::format_reset(*batch.reset);
    }
    for (const auto& event : batch.events) {
      if (revokes_caller(event)) {
        revoked_ = true;  // nothing after it: the stream ends once this much is written
        break;
      }
      out += sse::format_event(epoch_, event);
    }
    if (revoked_ && out.empty()) return std::nullopt;
    return out;
  }

  std::string heartbeat() override { return std::string(sse::kHeartbeat); }
  std::chrono::milliseconds heartbeat_interval() const override { return heartbeat_; }

  // Unregisters from the feed, which then never calls the wake function again.
  void stop() override { reader_.reset(); }

 private:
  bool revokes_caller(const events::Event& event) const {
    if (credential_id_.empty() || event.type != events::types::kGatewayCredentialRevoked)
      return false;
    boost::system::error_code ec;
    auto payload = boost::json::parse(event.payload_json, ec);
    if (ec || !payload.is_object()) return false;
    const auto* id = payload.as_object().if_contains("id");
    return id && id->is_string() && id->as_string() == credential_id_;
  }

  std::unique_ptr<events::EventFeed::Reader> reader_;
  std::chrono::milliseconds heartbeat_;
  std::string epoch_;
  const std::string credential_id_;
  bool revoked_ = false;
};

}  // namespace

http::Response event_stream_response(events::EventFeed& feed, const http::Request& request,
                                     std::chrono::milliseconds heartbeat,
                                     std::string credential_id) {
  std::string id;
  if (auto last = request.headers.get("Last-Event-ID"))
    id = std::string(*last);
  else if (auto after = request.query_param("after"))
    id = *after;
  if (id.size() > kMaxPositionLength)
    throw ApiError::bad_request("the position is longer than " +
                                std::to_string(kMaxPositionLength) + " characters");
  auto position = sse::parse_position(id);
  if (!position)
    throw ApiError::bad_request("the position must be \"<epoch>:<sequence>\" or empty");
  std::string epoch = position->epoch;
  auto reader = feed.open(std::move(*position));
  if (!reader)
    throw ApiError(503, 503, "Service Unavailable",
                   "This control plane serves its maximum of event streams; retry later or "
                   "through another control plane");
  http::Response response;
  response.status = 200;
  response.headers.set("Content-Type", "text/event-stream");
  response.headers.set("Cache-Control", "no-store");
  // nginx would otherwise buffer the stream and hold events back.
  response.headers.set("X-Accel-Buffering", "no");
  response.stream = std::make_shared<EventStreamBody>(std::move(reader), std::move(epoch),
                                                      heartbeat, std::move(credential_id));
  return response;
}

}  // namespace portico::admin

#pragma once
// Internal to src/gateway: the state of one API call shared by every filter (Pingora's
// per-request context), the filter interface (Envoy's decode/encode filters, reduced to what
// an API gateway needs) and the local reply a filter answers with.
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/authenticator.h"
#include "gateway/client_request.h"
#include "gateway/routes.h"
#include "gateway/snapshot.h"
#include "traffic/traffic.h"

namespace portico::gateway {

// An answer the gateway gives itself instead of proxying, in the reference's error shape.
// `message` and `description` point to static text (analytics records them as they are).
struct LocalReply {
  int status = 0;                // 0: no local reply
  long code = 0;                 // the reference's error code; 0 for non-error replies
  std::string_view message;      // "Invalid Credentials"
  std::string_view description;  // "Make sure you have provided the correct ..."
  std::string_view error_type;   // analytics errorType: AUTH, THROTTLED, ...
  std::vector<std::pair<std::string, std::string>> headers;  // WWW-Authenticate, Retry-After...
  std::string body;      // non-error replies (CORS preflight: empty)
  bool is_error = true;  // false: `body` as is, no JSON error
};

// One header change for the upstream request or the client response.
struct HeaderEdit {
  bool remove = false;
  std::string name;
  std::string value;
};

struct RequestContext {
  // Set by the session before the filters run.
  std::shared_ptr<const Snapshot> snapshot;
  std::shared_ptr<const RevokedTokens> revoked;
  const ClientRequest* request = nullptr;  // method, target, fields as received
  std::string_view method;
  std::string path;        // normalised
  std::string_view query;  // raw query string without '?', "" when none
  std::string_view client_ip;
  bool secure = false;  // arrived over TLS
  // The session's executor: asynchronous filter work (Authenticator::resolve) posts its
  // completion here, so that resume() runs on the session's thread. Added by the filters.
  boost::asio::any_io_executor executor;
  std::int64_t now_ms = 0;         // unix ms when the request head was complete
  std::int64_t request_bytes = 0;  // Content-Length, or 0 when chunked / none
  std::string correlation_id;

  // Routing.
  RouteMatch route;

  // Authentication and subscription.
  std::shared_ptr<const Principal> principal;
  // The answer of Authenticator::resolve() while the authentication filter was paused.
  std::optional<AuthResult> resolved_auth;
  // What the control plane said about an application the snapshot lacked (MissLookup), and
  // whether it was asked for this call: it is asked at most once per call.
  std::shared_ptr<const ApplicationRecord> learned;
  bool asked_control_plane = false;
  // Into ctx.snapshot or ctx.learned.
  const Application* application = nullptr;
  const Subscription* subscription = nullptr;
  std::string_view key_type = "PRODUCTION";  // selects production or sandbox endpoints
  std::string_view user;                     // end user for analytics and throttling

  // The throttler's answer: the bandwidth counters the response's bytes go to on completion
  // (Throttler::record_bytes) and whether the subscription was over quota. Added by the filters.
  traffic::ThrottleDecision throttle;

  // What to change on the way.
  std::vector<HeaderEdit> upstream_edits;
  std::vector<HeaderEdit> response_edits;
  bool strip_authorization = false;  // the credential's header is not forwarded
  std::string credential_header;     // which header carried it (Authorization, apikey...)
  bool credential_in_query = false;  // the API key came in the query: drop that parameter

  // The reply, when a filter answers.
  LocalReply reply;

  // Timings for analytics (steady clock).
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point request_filters_done;
  std::chrono::steady_clock::time_point upstream_started;
  std::chrono::steady_clock::time_point upstream_head_received;
  std::chrono::steady_clock::time_point response_filters_done;  // the backend's answer mediated
  std::chrono::steady_clock::time_point finished;
  int target_status = 0;         // what the backend answered; 0 when not reached
  int proxy_status = 0;          // what the client got
  long upstream_error_code = 0;  // 101503, 101504...
  std::int64_t response_bytes = 0;

  // Back to a new request's state, except for the memory of the strings and lists that most
  // requests fill: the next request on a keep-alive connection reuses it instead of
  // allocating. Every field is reset by assignment from a fresh context, so none is missed.
  void reset_keeping_capacity() {
    std::string path_memory = std::move(path);
    std::string correlation_memory = std::move(correlation_id);
    std::vector<HeaderEdit> upstream_memory = std::move(upstream_edits);
    std::vector<HeaderEdit> response_memory = std::move(response_edits);
    *this = RequestContext();
    path = std::move(path_memory);
    path.clear();
    correlation_id = std::move(correlation_memory);
    correlation_id.clear();
    upstream_edits = std::move(upstream_memory);
    upstream_edits.clear();
    response_edits = std::move(response_memory);
    response_edits.clear();
  }
};

// What a filter tells the chain after looking at the request.
enum class FilterStatus : std::uint8_t {
  kContinue,  // next filter
  kReply,     // ctx.reply is set: answer it, stop the chain
  kPause,     // the filter started asynchronous work and will call resume() once
};

// A step of the request path. Filters hold no per-request state of their own (the context
// does), so one instance serves every thread; anything they keep is per thread or immutable.
class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;
  // Before the request is proxied. kPause: call `resume` exactly once later, on the session's
  // executor (the filter is asked again with the same context).
  virtual FilterStatus on_request(RequestContext& ctx, const std::function<void()>& resume) {
    return FilterStatus::kContinue;
  }
  // The backend's (or a local reply's) response head is about to go to the client.
  virtual void on_response(RequestContext& ctx) {}
  // The exchange is over (answered, failed or aborted): record it.
  virtual void on_complete(RequestContext& ctx) {}
};

// Sets ctx.reply to the reference's error and returns kReply, for `return reply(...)`.
FilterStatus reply_error(RequestContext& ctx, int status, long code, std::string_view message,
                         std::string_view description, std::string_view error_type);

}  // namespace portico::gateway

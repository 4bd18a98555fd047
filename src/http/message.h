#pragma once
// The control plane's view of an HTTP exchange: plain value types, so that handlers
// need not include Beast or Asio (they are heavy to compile and belong to src/http).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico {
class BoundedPool;
}

namespace portico::http {

// Header fields in arrival order, looked up case-insensitively.
class Headers {
 public:
  // The first field of that name, if any.
  std::optional<std::string_view> get(std::string_view name) const;
  // Replaces every field of that name with one.
  void set(std::string name, std::string value);
  // Appends a field (for repeatable fields such as Set-Cookie).
  void add(std::string name, std::string value);
  void remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
  std::string method;                             // as received, e.g. "GET"
  std::string target;                             // the raw request-target
  std::string path;                               // percent-decoded path, without the query
  std::multimap<std::string, std::string> query;  // decoded query parameters
  Headers headers;
  std::string body;
  std::string remote_address;
  bool secure = false;                             // arrived over TLS
  std::map<std::string, std::string> path_params;  // filled by the Router from {name} segments
  // What offload() computed for this request, and first_time()'s marks, by key; kept across
  // the handler's re-runs.
  std::map<std::string, std::string> offloaded;

  // The first query parameter of that name, if any.
  std::optional<std::string> query_param(const std::string& name) const;
};

// The body of a response that goes on for as long as its source does (server-sent events):
// the server sends the head, then each piece next() gives, chunked, until next() says the body
// is complete or the client leaves. Such a connection holds no thread while it waits.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Once, on the connection's thread, before the first next(). `wake` may be called from any
  // thread, any number of times: the server then calls next() soon, on the connection's thread.
  virtual void start(std::function<void()> wake) = 0;
  // What to send now (empty: nothing yet), or nullopt when the body is complete.
  virtual std::optional<std::string> next() = 0;
  // Sent when nothing else was for heartbeat_interval(), so that idle proxies keep the
  // connection open and a vanished client is noticed.
  virtual std::string heartbeat() = 0;
  virtual std::chrono::milliseconds heartbeat_interval() const = 0;
  // The connection is closing: `wake` must not be called any more once this returns.
  virtual void stop() = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set (with status 200), the body streams from it and `body` is ignored.
  std::shared_ptr<BodyStream> stream;

  static Response json(int status, std::string body);
  static Response html(int status, std::string body);
  // The reference's error shape: {"code": ..., "message": ..., "description": ...}.
  static Response error(int status, long code, std::string_view message,
                        std::string_view description);
};

// application/x-www-form-urlencoded, decoded. nullopt on malformed percent-encoding.
std::optional<std::multimap<std::string, std::string>> parse_form(std::string_view body);

// Percent-encodes all but RFC 3986's unreserved characters: a value safe inside a query.
std::string percent_encode(std::string_view text);

using Handler = std::function<Response(Request&)>;

// The request body a route takes. JSON unless the route says otherwise; form and multipart
// routes check their media type themselves.
enum class BodyType { json, form, multipart };

// Slow, CPU-bound work a handler needs (a password hash) runs on `pool`, never on an I/O
// thread. In a handler the server dispatched, the first call suspends the handler: the Router
// hands `work` to the pool, frees the I/O thread and, once the work is done, runs the handler
// again from the start with the result kept under `key` in request.offloaded, where the next
// call finds it. A handler must therefore change nothing before its last offload() (they
// authenticate first, and validate before hashing a new password). Elsewhere (tests, start-up,
// Router::dispatch from a non-I/O thread) the call waits for the pool. `work` may throw; the
// request then fails with a 500. ApiError 503 at once when the pool's queue is full.
std::string offload(BoundedPool& pool, const std::string& key, std::function<std::string()> work);

// True the first time it is asked with `key` while one request is handled, false on the
// re-runs offload() causes; always true outside a handler. For an effect that follows an
// offload() but must happen once per request (counting a failed login).
bool first_time(const std::string& key);

// Maps method + path template ("/apis/{apiId}/documents") to a handler. Literal segments
// win over {param} segments. No path: 404; path but no such method: 405 with Allow.
// A handler's ApiError becomes its JSON error; any other exception becomes a 500 with a
// generic message (the detail is logged, never sent to the client). Before a handler runs,
// a body of the wrong media type (415) and a cross-site request without a JSON body (403) are
// refused; a 401 to a browser carries no Basic challenge (http/browser_guard.h).
class Router {
 public:
  void add(std::string method, std::string path_template, Handler handler);
  void add(std::string method, std::string path_template, BodyType body, Handler handler);
  // Runs the handler on the calling thread; offload() inside it waits for its pool.
  Response dispatch(Request& request) const;
  // As dispatch(), for I/O threads: a handler that offloads work is suspended and run again
  // through `post` (which must run its argument on the caller's thread) when the work is
  // done. `done` hears the response exactly once, on the caller's thread.
  using Post = std::function<void(std::function<void()>)>;
  void dispatch_async(std::shared_ptr<Request> request, Post post,
                      std::function<void(Response)> done) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" marks a parameter
    Handler handler;
    BodyType body = BodyType::json;
  };
  struct Suspension;
  friend std::string offload(BoundedPool& pool, const std::string& key,
                             std::function<std::string()> work);
  // The response, or nullopt when the handler offloaded work (described in `suspended`).
  std::optional<Response> run(Request& request, bool may_suspend, Suspension* suspended) const;
  std::optional<Response> invoke(const Route& route, Request& request, Suspension* suspended) const;
  std::vector<Route> routes_;
};

}  // namespace portico::http

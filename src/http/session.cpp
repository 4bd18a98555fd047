#include "http/session.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <optional>

#include "common/log.h"

namespace portico::http::detail {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
// How long a closing connection keeps reading (and discarding) what the client still sends,
// so that closing with unread data does not reset the connection before the client has
// read our response (the "lingering close" of Apache and nginx).
constexpr std::chrono::seconds kMaxLinger{2};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

bool contains_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// A handler must not be able to split a response with a stray CR or LF.
bool is_valid_field(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ':') return false;
  }
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

// IMF-fixdate (RFC 9110 §5.6.7), written by hand: strftime's names follow the locale.
std::string http_date() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buffer;
}

std::string reason(int status) {
  return std::string(bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status))));
}

// Fills path and query from the target; the description of what is wrong otherwise.
std::optional<std::string> split_target(Request& request) {
  std::string_view target = request.target;
  std::string_view path, query;
  if (target.front() == '/') {
    auto question = target.find('?');
    path = target.substr(0, question);
    if (question != std::string_view::npos) query = target.substr(question + 1);
  } else if (target == "*") {
    if (request.method != "OPTIONS") return "Request target * is for OPTIONS only";
    request.path = "*";
    return std::nullopt;
  } else {
    // absolute-form, which clients send to proxies; authority-form (CONNECT) is not served.
    auto url = boost::urls::parse_absolute_uri(target);
    if (!url || !url->has_authority()) return "Invalid request target";
    path = url->encoded_path();
    if (path.empty()) path = "/";
    query = url->encoded_query();
  }
  auto decoded = boost::urls::make_pct_string_view(path);
  if (!decoded) return "Malformed percent-encoding in the path";
  request.path = decoded->decode();
  // Query strings follow the form rules ('+' is a space) in every client that builds them.
  auto params = parse_form(query);
  if (!params) return "Malformed percent-encoding in the query";
  request.query = std::move(*params);
  return std::nullopt;
}

template <class Stream>
constexpr bool kIsTls = !std::is_same_v<Stream, beast::tcp_stream>;

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... StreamArgs>
  Session(ServerContext& context, Worker& worker, std::string remote_address,
          StreamArgs&&... stream_args)
      : context_(context),
        worker_(worker),
        stream_(std::forward<StreamArgs>(stream_args)...),
        remote_address_(std::move(remote_address)),
        scanner_(context.limits) {}

  ~Session() override {
    stop_stream();
    if (registered_) {
      worker_.sessions.erase(this);
      context_.session_ended();
    }
  }

  void run() {
    worker_.sessions.insert(this);
    registered_ = true;
    context_.session_started();
    // The first request (TLS handshake included) must arrive within read_timeout of accept.
    lowest().expires_after(options().read_timeout);
    if constexpr (kIsTls<Stream>) {
      state_ = State::kHandshake;
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close_now();
                                self->read_head();
                              });
    } else {
      read_head();
    }
  }

  void on_stop() override {
    // A stream never finishes a response on its own: the client reconnects elsewhere.
    if (state_ == State::kStreaming) return close_now();
    if (state_ == State::kIdle && !first_request_ && !next_request_arriving()) close_now();
  }

  void force_close() override { close_now(); }

 private:
  enum class State {
    kHandshake,
    kIdle,
    kReading,
    kHandling,
    kWriting,
    kStreaming,
    kClosing,
    kClosed
  };

  const ServerOptions& options() const { return context_.options; }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // Bytes of a next request are here or in the kernel: a client sent it on this kept-alive
  // connection just as the server began to drain. Answering it (with Connection: close)
  // beats resetting it, which a load balancer cannot retry once the request was sent.
  bool next_request_arriving() {
    if (buffer_.size() > 0) return true;
    beast::error_code ec;
    if (lowest().socket().available(ec) > 0 && !ec) return true;
    if constexpr (kIsTls<Stream>) return SSL_pending(stream_.native_handle()) > 0;
    return false;
  }

  void read_head() {
    if (context_.stopping && !first_request_ && !next_request_arriving()) return close_now();
    scanner_.reset();
    parser_.reset();
    if (buffer_.size() == 0) {
      state_ = State::kIdle;
      if (!first_request_) lowest().expires_after(options().idle_timeout);
    } else {
      // Pipelined: the next request has begun already.
      state_ = State::kReading;
      if (!first_request_) lowest().expires_after(options().read_timeout);
    }
    scan_head();
  }

  void scan_head() {
    auto data = buffer_.data();
    std::string_view view(static_cast<const char*>(data.data()), data.size());
    switch (scanner_.scan(view)) {
      case RequestHeadScanner::Status::kError:
        return send_error(scanner_.error().status, scanner_.error().description);
      case RequestHeadScanner::Status::kComplete:
        return on_head(view);
      case RequestHeadScanner::Status::kNeedMore:
        break;
    }
    stream_.async_read_some(
        buffer_.prepare(kReadChunk),
        [self = this->shared_from_this()](beast::error_code ec, std::size_t bytes) {
          self->on_read_some(ec, bytes);
        });
  }

  void on_read_some(beast::error_code ec, std::size_t bytes) {
    // EOF, timeout, reset or stop: nothing useful can be sent on a half-received request.
    if (ec) return close_now();
    buffer_.commit(bytes);
    if (state_ == State::kIdle) {
      state_ = State::kReading;
      if (!first_request_) lowest().expires_after(options().read_timeout);
    }
    scan_head();
  }

  void on_head(std::string_view buffered) {
    const HeadInfo& info = scanner_.info();
    version_minor_ = info.version_minor;
    parser_.emplace();
    // The scanner enforced the real limits; Beast's must merely not be tighter.
    parser_->header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(scanner_.head_size() + 1, UINT32_MAX)));
    parser_->body_limit(options().max_body_bytes);
    std::string_view head =
        buffered.substr(info.request_line_offset, scanner_.head_size() - info.request_line_offset);
    beast::error_code ec;
    std::size_t used = parser_->put(net::buffer(head.data(), head.size()), ec);
    if (ec || used != head.size() || !parser_->is_header_done()) {
      return send_error(400, "Malformed request head");
    }
    buffer_.consume(scanner_.head_size());
    if (parser_->is_done()) return handle_request();
    if (info.expect_continue) {
      state_ = State::kWriting;
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                         if (ec) return self->close_now();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    state_ = State::kReading;
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        self->on_body(ec);
                      });
  }

  void on_body(beast::error_code ec) {
    if (!ec) return handle_request();
    if (ec == bhttp::error::body_limit) {
      return send_error(
          413, "Request body exceeds " + std::to_string(options().max_body_bytes) + " bytes");
    }
    if (ec == bhttp::error::header_limit) {
      return send_error(431, "Chunked trailer fields too large");
    }
    bool truncated = ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message;
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_chunk).category() && !truncated) {
      return send_error(400, "Malformed request body: " + ec.message());
    }
    close_now();
  }

  void handle_request() {
    state_ = State::kHandling;
    auto& message = parser_->get();
    bool head_request = message.method() == bhttp::verb::head;
    bool keep_alive = message.keep_alive();
    auto request = std::make_shared<Request>();
    try {
      request->method = std::string(message.method_string());
      request->target = std::string(message.target());
      if (auto problem = split_target(*request)) return send_error(400, *problem);
      for (const auto& field : message) {
        request->headers.add(std::string(field.name_string()), std::string(field.value()));
      }
      request->body = std::move(message.body());
      request->remote_address = remote_address_;
      request->secure = kIsTls<Stream>;
    } catch (const std::exception& e) {
      // Allocation failure and the like while building the request.
      spdlog::error("HTTP request from {} failed: {}", remote_address_, e.what());
      return write_response(Response::error(500, 500, "Internal Server Error",
                                            "The server could not complete the request"),
                            keep_alive, head_request);
    }
    // A handler that offloads slow work (a password hash) answers later, through `post` on
    // this connection's thread; the I/O thread serves other connections meanwhile.
    auto self = this->shared_from_this();
    auto post = [self](std::function<void()> task) {
      net::post(self->stream_.get_executor(), std::move(task));
    };
    auto done = [self, keep_alive, head_request](Response response) {
      self->write_response(std::move(response), keep_alive, head_request);
    };
    try {
      context_.router->dispatch_async(std::move(request), std::move(post), std::move(done));
    } catch (const std::exception& e) {
      // Router::dispatch_async answers handler exceptions; this is allocation failure.
      spdlog::error("HTTP request from {} failed: {}", remote_address_, e.what());
      close_now();
    }
  }

  void send_error(int status, const std::string& description) {
    spdlog::debug("HTTP {} to {}: {}", status, remote_address_, description);
    write_response(Response::error(status, status, reason(status), description), false, false);
  }

  void write_response(Response response, bool keep_alive, bool head_request) {
    if (response.status < 200 || response.status > 599) {
      spdlog::error("handler returned invalid HTTP status {}", response.status);
      response = Response::error(500, 500, "Internal Server Error",
                                 "The server could not complete the request");
    }
    if (response.stream && response.status == 200 && !head_request)
      return start_stream(std::move(response));
    if (response.stream) response.stream->stop();
    auto& out = response_.emplace();
    out.version(version_minor_ == 0 ? 10 : 11);
    out.result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers.fields()) {
      // Framing is the server's business; a handler may only ask to close.
      if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding")) continue;
      if (iequals(name, "Connection")) {
        if (contains_token(value, "close")) keep_alive = false;
        continue;
      }
      if (!is_valid_field(name, value)) {
        spdlog::warn("dropping a response header field with invalid characters");
        continue;
      }
      out.insert(name, value);
    }
    out.set(bhttp::field::date, http_date());
    bool bodiless_status = response.status == 204 || response.status == 304;
    if (!bodiless_status) {
      // For HEAD, the length the GET body would have (RFC 9110 §9.3.2), without the body.
      out.content_length(response.body.size());
      if (!head_request) out.body() = std::move(response.body);
    }
    keep_alive_ = keep_alive && !context_.stopping;
    out.keep_alive(keep_alive_);

    state_ = State::kWriting;
    lowest().expires_after(options().read_timeout);
    bhttp::async_write(stream_, out,
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                         self->on_write(ec);
                       });
  }

  void on_write(beast::error_code ec) {
    response_.reset();
    if (ec) return close_now();
    if (!keep_alive_) return graceful_close();
    first_request_ = false;
    read_head();
  }

  // ---- a streamed body (http::BodyStream) --------------------------------------------------
  // The head, then each piece as a chunk (HTTP/1.0: until the connection closes). Waiting for
  // the next piece holds no operation but a read, without a deadline, that notices the client
  // leaving; each write is bounded by the read timeout, so a client that stops reading is
  // dropped.

  void start_stream(Response response) {
    body_stream_ = std::move(response.stream);
    chunked_ = version_minor_ != 0;
    std::string head = chunked_ ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.0 200 OK\r\n";
    for (const auto& [name, value] : response.headers.fields()) {
      if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
          iequals(name, "Connection") || !is_valid_field(name, value))
        continue;
      head += name + ": " + value + "\r\n";
    }
    head += "Date: " + http_date() + "\r\n";
    if (chunked_) head += "Transfer-Encoding: chunked\r\n";
    head += "Connection: close\r\n\r\n";
    keep_alive_ = false;
    state_ = State::kStreaming;
    heartbeat_timer_.emplace(stream_.get_executor());
    std::weak_ptr<Session> weak = this->shared_from_this();
    auto executor = stream_.get_executor();
    body_stream_->start([weak, executor] {
      net::post(executor, [weak] {
        if (auto self = weak.lock()) self->pump_stream();
      });
    });
    // The request's read deadline is still set, and tcp_stream arms it for every read started
    // while it is: the read that watches for the client leaving would time out read_timeout
    // after the request began and end a healthy stream. Only writes are bounded from here on.
    lowest().expires_never();
    watch_for_close();
    write_stream(std::move(head));
  }

  void watch_for_close() {
    stream_.async_read_some(net::buffer(linger_buffer_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close_now();
                              self->watch_for_close();  // a client sends nothing; discard it
                            });
  }

  void write_stream(std::string bytes) {
    writing_ = true;
    stream_out_ = std::move(bytes);
    lowest().expires_after(options().read_timeout);
    net::async_write(stream_, net::buffer(stream_out_),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_stream_write(ec);
                     });
  }

  void write_chunk(std::string_view data) {
    if (!chunked_) return write_stream(std::string(data));
    char size[20];
    int length = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    std::string chunk(size, static_cast<std::size_t>(length));
    chunk += data;
    chunk += "\r\n";
    write_stream(std::move(chunk));
  }

  void on_stream_write(beast::error_code ec) {
    writing_ = false;
    if (ec || state_ != State::kStreaming) return close_now();
    lowest().expires_never();
    last_write_ = std::chrono::steady_clock::now();
    if (stream_finished_) return close_now();
    pump_stream();
  }

  void pump_stream() {
    if (writing_ || state_ != State::kStreaming) return;
    std::optional<std::string> piece = body_stream_->next();
    if (!piece) {
      stream_finished_ = true;
      if (!chunked_) return close_now();
      return write_stream("0\r\n\r\n");
    }
    if (!piece->empty()) return write_chunk(*piece);
    heartbeat_timer_->expires_at(last_write_ + body_stream_->heartbeat_interval());
    heartbeat_timer_->async_wait(
        [weak = std::weak_ptr<Session>(this->shared_from_this())](beast::error_code ec) {
          auto self = weak.lock();
          if (ec || !self || self->writing_ || self->state_ != State::kStreaming) return;
          self->write_chunk(self->body_stream_->heartbeat());
        });
  }

  void stop_stream() {
    if (!body_stream_ || stream_stopped_) return;
    stream_stopped_ = true;
    body_stream_->stop();
    if (heartbeat_timer_) heartbeat_timer_->cancel();
  }

  void graceful_close() {
    state_ = State::kClosing;
    lowest().expires_after(
        std::min<std::chrono::steady_clock::duration>(options().read_timeout, kMaxLinger));
    if constexpr (kIsTls<Stream>) {
      // Sends close_notify and waits (bounded by the timer) for the client's.
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->close_now(); });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      linger();
    }
  }

  void linger() {
    stream_.async_read_some(net::buffer(linger_buffer_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close_now();
                              self->linger();
                            });
  }

  void close_now() {
    if constexpr (kIsTls<Stream>) {
      // A client that simply closes TCP between requests (most do) would otherwise make
      // OpenSSL drop the session from the cache as "not shut down properly", defeating
      // resumption; mid-request failures keep that protection.
      if (state_ == State::kIdle || state_ == State::kClosing) {
        SSL_set_shutdown(stream_.native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
      }
    }
    state_ = State::kClosed;
    lowest().close();
    stop_stream();
  }

  ServerContext& context_;
  Worker& worker_;
  Stream stream_;
  std::string remote_address_;
  beast::flat_buffer buffer_;
  RequestHeadScanner scanner_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  std::array<char, 4096> linger_buffer_{};
  State state_ = State::kIdle;
  int version_minor_ = 1;
  bool keep_alive_ = false;
  bool first_request_ = true;
  bool registered_ = false;
  // A streamed body.
  std::shared_ptr<BodyStream> body_stream_;
  std::optional<net::steady_timer> heartbeat_timer_;
  std::string stream_out_;
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
  bool chunked_ = true;
  bool writing_ = false;
  bool stream_finished_ = false;
  bool stream_stopped_ = false;
};

}  // namespace

ServerContext::ServerContext(ServerOptions opts, std::shared_ptr<const Router> r,
                             std::shared_ptr<SessionStarter> s)
    : options(std::move(opts)),
      limits{options.max_request_line_bytes, options.max_header_bytes, options.max_header_count,
             options.max_body_bytes},
      router(std::move(r)),
      starter(std::move(s)) {}

void ServerContext::session_started() {
  std::lock_guard lock(mutex_);
  ++sessions_;
}

void ServerContext::session_ended() {
  {
    std::lock_guard lock(mutex_);
    --sessions_;
  }
  no_sessions_.notify_all();
}

bool ServerContext::wait_for_no_sessions(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return no_sessions_.wait_for(lock, timeout, [this] { return sessions_ == 0; });
}

void start_session(ServerContext& context, Worker& worker, tcp::socket socket, ssl::context* tls) {
  beast::error_code ec;
  // Control-plane responses are small and followed by a read: Nagle would only delay them.
  socket.set_option(tcp::no_delay(true), ec);
  auto endpoint = socket.remote_endpoint(ec);
  std::string remote = ec ? std::string() : endpoint.address().to_string();
  if (tls != nullptr) {
    std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
        context, worker, std::move(remote), std::move(socket), *tls)
        ->run();
  } else {
    std::make_shared<Session<beast::tcp_stream>>(context, worker, std::move(remote),
                                                 std::move(socket))
        ->run();
  }
}

}  // namespace portico::http::detail

#include "gateway/proxy_session.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory_resource>
#include <optional>
#include <span>

#include "common/log.h"
#include "gateway/error_body.h"
#include "gateway/proxy_upstream.h"
#include "gateway/proxy_wire.h"
#include "http/request_head.h"

namespace portico::gateway {

namespace {

namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using http::detail::RequestHeadScanner;

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::chrono::seconds kMaxLinger{2};
// A request head with a JWT and a backend's response head fit; bigger ones spill to the heap.
constexpr std::size_t kFieldsArenaBytes = 4096;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

template <class Stream>
constexpr bool kIsTls = !std::is_same_v<Stream, TcpStream>;

template <class Stream>
class ProxySession final : public http::detail::SessionBase,
                           public ExchangeClient,
                           public std::enable_shared_from_this<ProxySession<Stream>> {
 public:
  template <class... StreamArgs>
  ProxySession(http::detail::ServerContext& context, http::detail::Worker& worker,
               GatewayShared& shared, std::string client_ip, StreamArgs&&... stream_args)
      : context_(context),
        worker_(worker),
        shared_(shared),
        thread_(thread_state(shared, worker.io)),
        stream_(std::forward<StreamArgs>(stream_args)...),
        deadline_(worker.io, [this] { on_client_timeout(); }),
        client_ip_(std::move(client_ip)),
        scanner_(context.limits),
        exchange_(*this, thread_, ctx_, request_, deadline_, fields_arena_, body_buffer_) {
    resume_ = [this] {
      auto hold = std::move(pause_hold_);
      // The connection may have been closed (server stopping) while the filter waited.
      if (in_request_) run_filters(paused_at_);
    };
  }

  ~ProxySession() override {
    if (registered_) {
      worker_.sessions.erase(this);
      context_.session_ended();
    }
  }

  void run() {
    worker_.sessions.insert(this);
    registered_ = true;
    context_.session_started();
    time_client(context_.options.read_timeout);
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

  // Between requests with nothing of a next one arrived: close now. Otherwise the request
  // at hand is answered with Connection: close; a connection that has not carried a request
  // yet was opened to send one, and gets it answered too (see http::detail::SessionBase).
  void on_stop() override {
    if (state_ == State::kIdle && !first_request_ && !next_request_arriving()) close_now();
  }
  void force_close() override {
    exchange_.close_connection();
    close_now();
  }

 private:
  enum class State { kHandshake, kIdle, kReading, kProxying, kClosing, kClosed };

  TcpStream& lowest() { return beast::get_lowest_layer(stream_); }

  // One side at a time has an operation under way, and only that side is timed: a slow
  // backend is not the client's delay, nor a slow reader the backend's.
  void time_client(Deadline::Duration limit) {
    deadline_.expires_after(limit);
    exchange_.stop_timer();
  }

  // The client's deadline passed. A request body that stopped arriving gets its answer from
  // the read this interrupts; otherwise the connection ends, failing whatever was under way.
  void on_client_timeout() {
    if (reading_body_) {
      lowest().cancel(ignored_);
      return;
    }
    lowest().close(ignored_);
  }
  const GatewayOptions& options() const { return shared_.options; }

  // ---- Request head -----------------------------------------------------------------------

  // Bytes of a next request are here or in the kernel: a client sent it on this kept-alive
  // connection just as the gateway began to drain. Answering it (with Connection: close)
  // beats resetting it, which a load balancer cannot retry once the request was sent.
  bool next_request_arriving() {
    if (buffer_.size() > 0) return true;
    if (lowest().available(ignored_) > 0 && !ignored_) return true;
    if constexpr (kIsTls<Stream>) return SSL_pending(stream_.native_handle()) > 0;
    return false;
  }

  void read_head() {
    if (context_.stopping && !first_request_ && !next_request_arriving()) return close_now();
    scanner_.reset();
    body_parser_.reset();
    exchange_.reset();
    fields_arena_.release();
    if (buffer_.size() == 0) {
      state_ = State::kIdle;
      if (!first_request_) time_client(context_.options.idle_timeout);
    } else {
      state_ = State::kReading;
      time_client(context_.options.read_timeout);
    }
    scan_head();
  }

  void scan_head() {
    auto data = buffer_.data();
    std::string_view view(static_cast<const char*>(data.data()), data.size());
    switch (scanner_.scan(view)) {
      case RequestHeadScanner::Status::kError:
        return send_protocol_error(scanner_.error().status, scanner_.error().description);
      case RequestHeadScanner::Status::kComplete:
        return on_head(view);
      case RequestHeadScanner::Status::kNeedMore:
        break;
    }
    stream_.async_read_some(
        buffer_.prepare(kReadChunk),
        [self = this->shared_from_this()](beast::error_code ec, std::size_t bytes) {
          if (ec) return self->close_now();
          self->buffer_.commit(bytes);
          if (self->state_ == State::kIdle) {
            self->state_ = State::kReading;
            self->time_client(self->context_.options.read_timeout);
          }
          self->scan_head();
        });
  }

  void on_head(std::string_view buffered) {
    const auto& info = scanner_.info();
    version_minor_ = info.version_minor;
    expect_continue_ = info.expect_continue;
    request_.assign(buffered, scanner_);
    buffer_.consume(scanner_.head_size());
    if (request_.has_body() && !start_body_parser()) {
      return send_protocol_error(400, "Malformed request head");
    }
    // Until the client is read from or written to again, the filters and the backend set
    // the pace: each has its own limit.
    deadline_.expires_never();
    state_ = State::kProxying;
    start_request(info.content_length.value_or(0));
  }

  // Beast's parser decodes the body (chunks, length) after a head that gives only its framing.
  bool start_body_parser() {
    auto& parser = body_parser_.emplace(std::piecewise_construct, std::make_tuple(),
                                        std::make_tuple(FieldsAllocator(&fields_arena_)));
    if (options().max_body_bytes > 0) {
      parser.body_limit(static_cast<std::uint64_t>(options().max_body_bytes));
    } else {
      parser.body_limit(boost::none);
    }
    std::array<char, 64> scratch;
    std::string_view head = request_.body_framing_head(scratch);
    beast::error_code ec;
    std::size_t used = parser.put(net::buffer(head.data(), head.size()), ec);
    return !ec && used == head.size() && parser.is_header_done();
  }

  bool request_done() const override { return !body_parser_ || body_parser_->is_done(); }

  // ---- Filters ----------------------------------------------------------------------------

  void start_request(std::uint64_t content_length) {
    close_after_reply_ = false;
    in_request_ = true;
    auto& ctx = ctx_;
    ctx.started = Clock::now();
    ctx.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    thread_.reader->refresh();
    ctx.snapshot = thread_.reader->snapshot();
    ctx.revoked = thread_.reader->revoked();
    ctx.request = &request_;
    ctx.method = request_.method_string();
    ctx.client_ip = client_ip_;
    ctx.executor = stream_.get_executor();
    ctx.secure = kIsTls<Stream>;
    ctx.request_bytes = static_cast<std::int64_t>(content_length);
    if (!shared_.store.ready()) {
      return local_reply(503, 503, "Service Unavailable",
                         "The gateway has not loaded its configuration yet", "OTHER");
    }
    if (!resolve_target(request_)) return;
    run_filters(0);
  }

  // Splits the request-target into the normalised path and the raw query. False when the
  // target cannot be served (the reply is under way).
  bool resolve_target(const ClientRequest& message) {
    auto& ctx = ctx_;
    std::string_view target = message.target();
    std::string_view path;
    if (!target.empty() && target.front() == '/') {
      auto question = target.find('?');
      path = target.substr(0, question);
      if (question != std::string_view::npos) ctx.query = target.substr(question + 1);
    } else {
      // absolute-form is for proxies; a gateway accepts it only when it names the Host the
      // request carries, so that routing and the backend see one authority.
      auto url = boost::urls::parse_absolute_uri(target);
      auto host = message[bhttp::field::host];
      if (!url || !url->has_authority() || !iequals(url->encoded_authority(), host)) {
        // As every malformed request: answered, then the connection closes.
        close_after_reply_ = true;
        local_reply(400, 400, "Bad Request", "The request target is not a path on this gateway",
                    "OTHER");
        return false;
      }
      path = url->encoded_path();
      if (path.empty()) path = "/";
      ctx.query = url->encoded_query();
    }
    if (!normalize_path(path, ctx.path)) {
      close_after_reply_ = true;
      local_reply(400, 400, "Bad Request", "The request path is malformed or not allowed", "OTHER");
      return false;
    }
    return true;
  }

  void run_filters(std::size_t from) {
    auto& ctx = ctx_;
    const auto& chain = shared_.chain;
    for (std::size_t i = from; i < chain.size(); ++i) {
      switch (chain[i]->on_request(ctx, resume_)) {
        case FilterStatus::kContinue:
          continue;
        case FilterStatus::kReply:
          return send_local_reply();
        case FilterStatus::kPause:
          paused_at_ = i;
          pause_hold_ = this->shared_from_this();
          return;
      }
    }
    ctx.request_filters_done = Clock::now();
    if (expect_continue_ && !request_done()) {
      // The request passed every check: now the client may send its body.
      expect_continue_ = false;
      time_client(context_.options.read_timeout);
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                         if (ec) return self->abort();
                         self->exchange_.start();
                       });
      return;
    }
    exchange_.start();
  }

  // ---- Request body and response, as the upstream side relays them -----------------------

  std::shared_ptr<void> hold() override { return this->shared_from_this(); }
  bool response_started() const override { return response_started_; }

  void read_request_piece() override {
    auto& parser = *body_parser_;
    parser.get().body().data = body_buffer_.data();
    parser.get().body().size = body_buffer_.size();
    time_client(context_.options.read_timeout);
    reading_body_ = true;
    bhttp::async_read_some(
        stream_, buffer_, parser,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
          self->reading_body_ = false;
          if (ec == bhttp::error::need_buffer) ec = {};
          if (ec == net::error::operation_aborted && self->deadline_.expired()) {
            return self->abort_with(408, 408, "Request Timeout",
                                    "The request body did not arrive in time");
          }
          if (ec) {
            // The client broke off or sent a malformed body: the backend got part of a
            // request, so neither connection can be used again.
            if (ec == bhttp::error::body_limit) {
              return self->abort_with(413, 413, "Payload Too Large",
                                      "The request body exceeds the configured limit");
            }
            return self->abort_with(400, 102511, "Incomplete payload",
                                    "The request body was malformed or incomplete");
          }
          auto& body = self->body_parser_->get().body();
          std::size_t got = self->body_buffer_.size() - body.size;
          self->exchange_.write_request_piece(got);
        });
  }

  void on_response_head() override {
    auto& ctx = ctx_;
    for (const auto& filter : shared_.chain) filter->on_response(ctx);
    ctx.response_filters_done = Clock::now();
    write_response_head();
  }

  // ---- Response ---------------------------------------------------------------------------

  void write_response_head() {
    auto& ctx = ctx_;
    const auto& parser = exchange_.response();
    const auto& message = parser.get();
    bool head_request = request_.method() == bhttp::verb::head;
    unsigned status = message.result_int();
    bool bodiless = head_request || status == 204 || status == 304;

    std::string& out = response_head_;
    out.clear();
    out.append(version_minor_ == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
    append_number(out, status);
    out.push_back(' ');
    std::string_view reason = message.reason();
    if (reason.empty()) reason = bhttp::obsolete_reason(message.result());
    out.append(reason);
    out.append(kCrlf);
    ConnectionOptions connection(message);
    for (const auto& field : message) {
      bhttp::field f = field.name();
      if (is_hop_by_hop(f)) continue;
      std::string_view name = field.name_string();
      if (connection.names(name)) continue;
      if (!ctx.response_edits.empty() && removed_by(ctx.response_edits, name)) continue;
      append_field(out, name, field.value());
    }
    for (const auto& edit : ctx.response_edits) {
      if (!edit.remove) append_field(out, edit.name, edit.value);
    }
    // Framing for the client: the backend's length when it gave one; otherwise chunked to an
    // HTTP/1.1 client, or the end of the connection for HTTP/1.0.
    downstream_chunked_ = false;
    bool keep_alive = request_.keep_alive() && !context_.stopping;
    if (auto length = parser.content_length()) {
      if (!(status == 204 || status == 304)) {
        out.append("Content-Length: ");
        append_number(out, *length);
        out.append(kCrlf);
      }
    } else if (!bodiless && !parser.is_done()) {
      if (version_minor_ >= 1) {
        downstream_chunked_ = true;
        out.append("Transfer-Encoding: chunked\r\n");
      } else {
        keep_alive = false;
      }
    } else if (!bodiless) {
      out.append("Content-Length: 0\r\n");
    }
    keep_alive_ = keep_alive;
    if (!keep_alive)
      out.append("Connection: close\r\n");
    else if (version_minor_ == 0)
      out.append("Connection: keep-alive\r\n");
    out.append(kCrlf);

    response_started_ = true;
    ctx.proxy_status = static_cast<int>(status);
    // The head goes out with the first piece of the body (usually already read with the
    // head): one write instead of two.
    response_head_pending_ = true;
    if (!parser.is_done()) return exchange_.relay_response_body();
    time_client(context_.options.read_timeout);
    net::async_write(stream_, net::buffer(response_head_),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->response_head_pending_ = false;
                       if (ec) return self->abort();
                       self->finish_response();
                     });
  }

  void write_response_piece(std::size_t got) override {
    bool done = exchange_.response().is_done();
    ctx_.response_bytes += static_cast<std::int64_t>(got);
    auto pieces = piece_write_.gather(response_head_pending_ ? &response_head_ : nullptr,
                                      downstream_chunked_, body_buffer_.data(), got, done);
    if (pieces.empty()) return done ? finish_response() : exchange_.relay_response_body();
    time_client(context_.options.read_timeout);
    net::async_write(stream_, pieces,
                     [self = this->shared_from_this(), done](beast::error_code ec, std::size_t) {
                       self->response_head_pending_ = false;
                       if (ec) return self->abort();
                       if (done) return self->finish_response();
                       self->exchange_.relay_response_body();
                     });
  }

  // The exchange is complete: the backend connection goes back to the pool when both sides
  // of it ended cleanly, the client's stays open when it asked to.
  void finish_response() {
    exchange_.finish(request_done());
    complete();
    if (!keep_alive_) return graceful_close();
    first_request_ = false;
    read_head();
  }

  // ---- Local replies ----------------------------------------------------------------------

  void local_reply(int status, long code, std::string_view message, std::string_view description,
                   std::string_view error_type) override {
    reply_error(ctx_, status, code, message, description, error_type);
    send_local_reply();
  }

  void send_local_reply() {
    auto& ctx = ctx_;
    for (const auto& filter : shared_.chain) filter->on_response(ctx);
    const LocalReply& reply = ctx.reply;
    bool head_request = request_.method() == bhttp::verb::head;
    // An unread request body would be taken for the next request: close instead.
    keep_alive_ =
        request_.keep_alive() && request_done() && !context_.stopping && !close_after_reply_;
    std::string& out = response_head_;
    out.clear();
    std::string body =
        reply.is_error ? error_body(reply.code, reply.message, reply.description) : reply.body;
    out.append(version_minor_ == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
    append_number(out, static_cast<std::uint64_t>(reply.status));
    out.push_back(' ');
    out.append(bhttp::obsolete_reason(static_cast<bhttp::status>(reply.status)));
    out.append(kCrlf);
    if (reply.is_error) append_field(out, "Content-Type", "application/json; charset=UTF-8");
    for (const auto& [name, value] : reply.headers) append_field(out, name, value);
    for (const auto& edit : ctx.response_edits) {
      if (!edit.remove) append_field(out, edit.name, edit.value);
    }
    out.append("Content-Length: ");
    append_number(out, body.size());
    out.append(kCrlf);
    if (!keep_alive_)
      out.append("Connection: close\r\n");
    else if (version_minor_ == 0)
      out.append("Connection: keep-alive\r\n");
    out.append(kCrlf);
    if (!head_request) out.append(body);
    ctx.proxy_status = reply.status;
    response_started_ = true;
    time_client(context_.options.read_timeout);
    net::async_write(stream_, net::buffer(response_head_),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->abort();
                       self->finish_response();
                     });
  }

  // A malformed request: no filter ran and none will; answer and close.
  void send_protocol_error(int status, std::string_view description) {
    spdlog::debug("gateway: {} to {}: {}", status, client_ip_, description);
    std::string body =
        error_body(status, bhttp::obsolete_reason(static_cast<bhttp::status>(status)), description);
    std::string& out = response_head_;
    out.clear();
    out.append("HTTP/1.1 ");
    append_number(out, static_cast<std::uint64_t>(status));
    out.push_back(' ');
    out.append(bhttp::obsolete_reason(static_cast<bhttp::status>(status)));
    out.append("\r\nContent-Type: application/json; charset=UTF-8\r\nConnection: close\r\n");
    out.append("Content-Length: ");
    append_number(out, body.size());
    out.append("\r\n\r\n");
    out.append(body);
    state_ = State::kProxying;
    keep_alive_ = false;
    time_client(context_.options.read_timeout);
    net::async_write(stream_, net::buffer(response_head_),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->close_now();
                       self->graceful_close();
                     });
  }

  // The request body failed after the backend got part of it.
  void abort_with(int status, long code, std::string_view message, std::string_view description) {
    exchange_.drop_connection();
    if (response_started_) return abort();
    local_reply(status, code, message, description, "OTHER");
  }

  // Something failed after bytes went out: nothing sensible can follow on either connection.
  void abort() override {
    exchange_.drop_connection();
    complete();
    close_now();
  }

  // Once per request, however it ended: the filters record it.
  void complete() {
    if (!in_request_) return;
    auto& ctx = ctx_;
    ctx.finished = Clock::now();
    // 499 as nginx logs it: the client went away before any answer.
    if (ctx.proxy_status == 0) ctx.proxy_status = 499;
    for (const auto& filter : shared_.chain) filter->on_complete(ctx);
    response_started_ = false;
    in_request_ = false;
    // Drops the request's references (snapshot, principal) now, not at the next request.
    ctx_.reset_keeping_capacity();
  }

  // ---- Closing ----------------------------------------------------------------------------

  void graceful_close() {
    state_ = State::kClosing;
    time_client(
        std::min<std::chrono::steady_clock::duration>(context_.options.read_timeout, kMaxLinger));
    if constexpr (kIsTls<Stream>) {
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->close_now(); });
    } else {
      lowest().shutdown(tcp::socket::shutdown_send, ignored_);
      linger();
    }
  }

  void linger() {
    stream_.async_read_some(net::buffer(body_buffer_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close_now();
                              self->linger();
                            });
  }

  void close_now() {
    if constexpr (kIsTls<Stream>) {
      if (state_ == State::kIdle || state_ == State::kClosing) {
        SSL_set_shutdown(stream_.native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
      }
    }
    complete();
    state_ = State::kClosed;
    deadline_.expires_never();
    lowest().close(ignored_);
  }

  http::detail::ServerContext& context_;
  http::detail::Worker& worker_;
  GatewayShared& shared_;
  ThreadState& thread_;
  Stream stream_;
  Deadline deadline_;
  beast::error_code ignored_;  // of closing and shutting down, which have nobody to tell
  bool reading_body_ = false;  // a timeout then cancels the read, which answers 408
  std::string client_ip_;
  beast::flat_buffer buffer_;
  RequestHeadScanner scanner_;
  // The fields of the exchange at hand (request and response heads) are allocated here,
  // before the parsers that use it, and released between requests.
  std::array<std::byte, kFieldsArenaBytes> fields_memory_;
  std::pmr::monotonic_buffer_resource fields_arena_{fields_memory_.data(), fields_memory_.size()};
  ClientRequest request_;
  // Only for a request with a body: decodes its framing.
  std::optional<bhttp::request_parser<bhttp::buffer_body, FieldsAllocator>> body_parser_;
  RequestContext ctx_;
  bool in_request_ = false;  // between start_request() and complete()
  std::function<void()> resume_;
  std::shared_ptr<ProxySession> pause_hold_;  // alive while a filter's async work runs
  std::size_t paused_at_ = 0;

  std::string response_head_;
  std::array<char, kBodyChunk> body_buffer_{};
  BodyPieceWrite piece_write_;
  // After the buffers and the context it relays through.
  UpstreamExchange exchange_;

  State state_ = State::kIdle;
  int version_minor_ = 1;
  bool expect_continue_ = false;
  bool response_head_pending_ = false;
  bool downstream_chunked_ = false;
  bool keep_alive_ = false;
  bool close_after_reply_ = false;  // a malformed request: answer, then close
  bool response_started_ = false;
  bool first_request_ = true;
  bool registered_ = false;
};

}  // namespace

void ProxySessionStarter::start(http::detail::ServerContext& context, http::detail::Worker& worker,
                                tcp::socket socket, ssl::context* tls) {
  beast::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  std::string client_ip = remote.address().to_string();
  socket.set_option(tcp::no_delay(true), ec);
  // The listener's socket has the polymorphic executor; the session's stream, the worker's own.
  auto handle = socket.release(ec);
  if (ec) return;
  TcpStream typed(worker.io, remote.protocol(), handle);
  if (tls == nullptr) {
    std::make_shared<ProxySession<TcpStream>>(context, worker, shared_, std::move(client_ip),
                                              std::move(typed))
        ->run();
  } else {
    std::make_shared<ProxySession<TlsStream>>(context, worker, shared_, std::move(client_ip),
                                              std::move(typed), *tls)
        ->run();
  }
}

}  // namespace portico::gateway

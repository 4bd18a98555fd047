#include "gateway/proxy_session.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <memory_resource>
#include <optional>
#include <span>
#include <stdexcept>

#include "common/log.h"
#include "gateway/error_body.h"
#include "http/request_head.h"

namespace portico::gateway {

namespace {

namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using http::detail::RequestHeadScanner;

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kBodyChunk = 16 * 1024;
constexpr std::uint32_t kUpstreamHeaderLimit = 64 * 1024;
constexpr std::chrono::seconds kMaxLinger{2};
// A request head with a JWT and a backend's response head fit; bigger ones spill to the heap.
constexpr std::size_t kFieldsArenaBytes = 4096;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";
constexpr std::string_view kCrlf = "\r\n";

// Beast's fields allocate once per field; the proxy gives them its connection's arena instead,
// released between requests.
using FieldsAllocator = std::pmr::polymorphic_allocator<char>;
using Fields = bhttp::basic_fields<FieldsAllocator>;

// One I/O thread's own gateway state: its view of the snapshot and its backend connections.
struct ThreadState {
  net::io_context* io = nullptr;  // the worker whose thread this is
  std::unique_ptr<SnapshotReader> reader;
  std::unique_ptr<UpstreamPool> pool;
};

// Per connection, on the session's worker thread (the server calls starters there). A session
// built on any other thread would share that thread's pool and reader with other workers,
// unlocked: refused loudly instead.
ThreadState& thread_state(GatewayShared& shared, net::io_context& io) {
  thread_local ThreadState state;
  if (!io.get_executor().running_in_this_thread() || (state.io != nullptr && state.io != &io))
    throw std::logic_error("gateway: a proxy session was started off its worker's thread");
  if (state.io == nullptr) {
    state.io = &io;
    state.reader = std::make_unique<SnapshotReader>(shared.store);
    UpstreamOptions options;
    options.max_idle_per_endpoint = shared.options.max_idle_upstream_per_endpoint;
    options.idle_timeout = shared.options.upstream_idle_timeout;
    options.address_policy = shared.options.backend_policy.get();
    state.pool = std::make_unique<UpstreamPool>(io, shared.upstream_tls, options);
  }
  return state;
}

bool iequals(std::string_view a, std::string_view b) {
  return boost::beast::iequals(a, b);
}

// Fields that describe one connection, not the message (RFC 9110 §7.6.1), and the framing
// the gateway sets itself.
bool is_hop_by_hop(bhttp::field f) {
  switch (f) {
    case bhttp::field::connection:
    case bhttp::field::keep_alive:
    case bhttp::field::proxy_connection:
    case bhttp::field::te:
    case bhttp::field::trailer:
    case bhttp::field::transfer_encoding:
    case bhttp::field::upgrade:
    case bhttp::field::proxy_authorization:
    case bhttp::field::proxy_authenticate:
    case bhttp::field::content_length:
      return true;
    default:
      return false;
  }
}

// Fields a message's Connection header lines name are hop-by-hop too (RFC 9110 §7.6.1).
// The list may span several lines; most messages name nothing but keep-alive or close.
class ConnectionOptions {
 public:
  explicit ConnectionOptions(const Fields& fields) {
    auto [line, last] = fields.equal_range(bhttp::field::connection);
    for (; line != last; ++line) add(line->value());
  }
  explicit ConnectionOptions(const ClientRequest& request) {
    for (const auto& field : request.fields()) {
      if (field.known == bhttp::field::connection) add(field.value);
    }
  }
  bool names(std::string_view field) const {
    for (std::size_t i = 0; i < count_; ++i) {
      if (iequals(names_[i], field)) return true;
    }
    return overflow_;
  }

 private:
  void add(std::string_view line) {
    for (auto token : bhttp::token_list(line)) {
      if (iequals(token, "keep-alive") || iequals(token, "close")) continue;
      if (count_ < names_.size()) {
        names_[count_++] = token;
      } else {
        overflow_ = true;  // more names than anyone sends: drop every unknown field
      }
    }
  }

  std::array<std::string_view, 8> names_{};
  std::size_t count_ = 0;
  bool overflow_ = false;
};

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append(kCrlf);
}

void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

bool removed_by(const std::vector<HeaderEdit>& edits, std::string_view name) {
  for (const auto& e : edits) {
    if (e.remove && iequals(e.name, name)) return true;
  }
  return false;
}

template <class Stream>
constexpr bool kIsTls = !std::is_same_v<Stream, TcpStream>;

template <class Stream>
class ProxySession : public http::detail::SessionBase,
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
        scanner_(context.limits) {
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
    if (context_.stopping) return close_now();
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

  void on_stop() override {
    if (state_ == State::kHandshake || state_ == State::kIdle) close_now();
  }
  void force_close() override {
    if (upstream_) upstream_->lowest().close(ignored_);
    close_now();
  }

 private:
  enum class State { kHandshake, kIdle, kReading, kProxying, kClosing, kClosed };

  TcpStream& lowest() { return beast::get_lowest_layer(stream_); }

  // One side at a time has an operation under way, and only that side is timed: a slow
  // backend is not the client's delay, nor a slow reader the backend's.
  void time_client(Deadline::Duration limit) {
    deadline_.expires_after(limit);
    if (upstream_) upstream_->deadline().expires_never();
  }
  void time_upstream() {
    upstream_->deadline().expires_after(endpoint_->read_timeout);
    deadline_.expires_never();
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

  void read_head() {
    if (context_.stopping) return close_now();
    scanner_.reset();
    body_parser_.reset();
    response_.reset();
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

  bool request_done() const { return !body_parser_ || body_parser_->is_done(); }

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
                         self->pick_endpoint();
                       });
      return;
    }
    pick_endpoint();
  }

  // ---- Upstream ---------------------------------------------------------------------------

  void pick_endpoint() {
    auto& ctx = ctx_;
    const Api& api = *ctx.route.api;
    const auto& group = ctx.key_type == "SANDBOX" ? api.sandbox : api.production;
    if (!group || group->endpoints.empty()) {
      return local_reply(403, 900908, "Resource forbidden",
                         ctx.key_type == "SANDBOX"
                             ? "The API has no sandbox endpoint for a SANDBOX key"
                             : "The API has no production endpoint for a PRODUCTION key",
                         "AUTH");
    }
    group_ = &*group;
    attempts_ = 0;
    if (group_->type == EndpointGroup::Type::kLoadBalance) {
      next_index_ = thread_.pool->next_round_robin(group_->endpoints.front().slot);
    } else {
      next_index_ = 0;
    }
    try_next_endpoint(kUpstreamConnectFailed);
  }

  // Tries the group's endpoints in order (failover) or from the round-robin position (load
  // balance), skipping suspended ones; `last_code` answers when none is left.
  void try_next_endpoint(long last_code) {
    auto now = coarse_now();
    const auto& endpoints = group_->endpoints;
    bool single = group_->type == EndpointGroup::Type::kHttp;
    while (attempts_ < endpoints.size()) {
      const Endpoint& candidate = endpoints[(next_index_ + attempts_) % endpoints.size()];
      ++attempts_;
      // One endpoint alone is tried even when suspended: there is nothing better to do.
      if (!single && thread_.pool->is_suspended(candidate, now)) continue;
      endpoint_ = &candidate;
      return acquire_connection();
    }
    upstream_failed(last_code);
  }

  void acquire_connection() {
    ctx_.upstream_started = Clock::now();
    if (auto pooled = thread_.pool->take(*endpoint_, !request_done() || !idempotent())) {
      upstream_ = std::move(pooled);
      return send_upstream_head();
    }
    thread_.pool->connect(*endpoint_, [self = this->shared_from_this()](
                                          long code, std::unique_ptr<UpstreamConnection> c) {
      if (code != 0) {
        self->thread_.pool->record_failure(*self->endpoint_, code, coarse_now());
        return self->try_next_endpoint(code);
      }
      self->upstream_ = std::move(c);
      self->send_upstream_head();
    });
  }

  // The request line and fields for the backend: the resource path under the endpoint's base
  // path, the client's fields minus hop-by-hop ones and the credential, the filters' edits,
  // and the X-Forwarded-* trail.
  void build_upstream_head() {
    auto& ctx = ctx_;
    const ClientRequest& message = request_;
    std::string& out = upstream_head_;
    out.clear();
    out.append(message.method_string());
    out.push_back(' ');
    out.append(endpoint_->base_path);
    out.append(ctx.route.resource_path);
    append_query(out);
    out.append(" HTTP/1.1\r\n");
    append_field(out, "Host", endpoint_->host_header);

    ConnectionOptions connection(message);
    std::string& trail = forwarded_for_;
    trail.clear();
    for (const auto& field : message.fields()) {
      bhttp::field f = field.known;
      if (is_hop_by_hop(f) || f == bhttp::field::host || f == bhttp::field::expect) continue;
      std::string_view name = field.name;
      if (f == bhttp::field::unknown && name.size() > 2 && name[1] == '-' &&
          (name[0] == 'X' || name[0] == 'x')) {
        if (iequals(name, "X-Forwarded-For")) {
          // Every line of the trail, in order, then this hop's client.
          trail.append(field.value);
          trail.append(", ");
          continue;
        }
        if (iequals(name, "X-Forwarded-Proto") || iequals(name, "X-Forwarded-Host")) continue;
      }
      if (connection.names(name)) continue;
      if (ctx.strip_authorization && !ctx.credential_header.empty() &&
          iequals(name, ctx.credential_header))
        continue;
      if (!ctx.upstream_edits.empty() && removed_by(ctx.upstream_edits, name)) continue;
      append_field(out, name, field.value);
    }
    for (const auto& edit : ctx.upstream_edits) {
      if (!edit.remove) append_field(out, edit.name, edit.value);
    }
    out.append("X-Forwarded-For: ");
    out.append(trail);
    out.append(ctx.client_ip);
    out.append(kCrlf);
    append_field(out, "X-Forwarded-Proto", ctx.secure ? "https" : "http");
    if (auto host = message[bhttp::field::host]; !host.empty())
      append_field(out, "X-Forwarded-Host", host);
    upstream_chunked_ = false;
    if (!request_done()) {
      if (request_.content_length()) {
        out.append("Content-Length: ");
        append_number(out, *request_.content_length());
        out.append(kCrlf);
      } else {
        upstream_chunked_ = true;
        out.append("Transfer-Encoding: chunked\r\n");
      }
    }
    out.append(kCrlf);
  }

  // The query as received, minus an API key that came in it.
  void append_query(std::string& out) {
    auto& ctx = ctx_;
    if (ctx.query.empty()) return;
    if (!ctx.credential_in_query) {
      out.push_back('?');
      out.append(ctx.query);
      return;
    }
    bool first = true;
    std::string_view rest = ctx.query;
    while (!rest.empty()) {
      auto amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
      std::string_view key = pair.substr(0, pair.find('='));
      if (key == ctx.credential_header) continue;
      out.push_back(first ? '?' : '&');
      out.append(pair);
      first = false;
    }
  }

  // The head goes out with the first piece of the body, if any: one write instead of two.
  void send_upstream_head() {
    build_upstream_head();
    upstream_head_pending_ = true;
    if (!request_done()) return relay_request_body();
    time_upstream();
    upstream_->visit([this](auto& s) {
      net::async_write(s, net::buffer(upstream_head_),
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                         self->upstream_head_pending_ = false;
                         if (ec) return self->upstream_io_failed(ec, false);
                         self->read_upstream_head();
                       });
    });
  }

  void relay_request_body() {
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
          self->write_request_piece(got);
        });
  }

  void write_request_piece(std::size_t got) {
    bool done = request_done();
    auto& pieces = pieces_;
    std::size_t count = 0;
    if (upstream_head_pending_) pieces[count++] = net::buffer(upstream_head_);
    if (upstream_chunked_ && got > 0) {
      auto [end, ec] = std::to_chars(chunk_head_, chunk_head_ + sizeof chunk_head_ - 2, got, 16);
      *end++ = '\r';
      *end++ = '\n';
      pieces[count++] = net::buffer(chunk_head_, static_cast<std::size_t>(end - chunk_head_));
    }
    if (got > 0) pieces[count++] = net::buffer(body_buffer_.data(), got);
    if (upstream_chunked_ && got > 0) pieces[count++] = net::buffer(kCrlf.data(), kCrlf.size());
    if (upstream_chunked_ && done)
      pieces[count++] = net::buffer(kLastChunk.data(), kLastChunk.size());
    if (count == 0) return done ? read_upstream_head() : relay_request_body();
    time_upstream();
    upstream_->visit([&](auto& s) {
      net::async_write(s, std::span<const net::const_buffer>(pieces.data(), count),
                       [self = this->shared_from_this(), done](beast::error_code ec, std::size_t) {
                         self->upstream_head_pending_ = false;
                         // A pooled connection found closed on the first write: nothing of
                         // the body was consumed by the backend, but it was read from the
                         // client, so it cannot be sent again.
                         if (ec) return self->upstream_io_failed(ec, true);
                         if (done) return self->read_upstream_head();
                         self->relay_request_body();
                       });
    });
  }

  void read_upstream_head() {
    auto& parser = response_.emplace(std::piecewise_construct, std::make_tuple(),
                                     std::make_tuple(FieldsAllocator(&fields_arena_)));
    parser.header_limit(kUpstreamHeaderLimit);
    parser.body_limit(boost::none);
    if (request_.method() == bhttp::verb::head) parser.skip(true);
    time_upstream();
    upstream_->visit([this](auto& s) {
      bhttp::async_read_header(
          s, upstream_->buffer(), *response_,
          [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_upstream_head(ec);
          });
    });
  }

  void on_upstream_head(beast::error_code ec) {
    if (ec) return upstream_io_failed(ec, true);
    auto& message = response_->get();
    unsigned status = message.result_int();
    if (status >= 100 && status < 200) {
      // Interim responses (100 Continue, 103 Early Hints) are the gateway's business with the
      // backend; 101 would switch protocols, which an API call through this gateway cannot.
      if (status == 101) return upstream_io_failed(bhttp::error::bad_version, true);
      return read_upstream_head();
    }
    auto& ctx = ctx_;
    ctx.upstream_head_received = Clock::now();
    ctx.target_status = static_cast<int>(status);
    thread_.pool->record_success(*endpoint_);
    for (const auto& filter : shared_.chain) filter->on_response(ctx);
    ctx.response_filters_done = Clock::now();
    write_response_head();
  }

  bool request_had_body() const { return ctx_.request_bytes > 0 || upstream_chunked_; }

  // RFC 9110 §9.2.2: a repeated request has the effect of one.
  bool idempotent() const {
    switch (request_.method()) {
      case bhttp::verb::get:
      case bhttp::verb::head:
      case bhttp::verb::options:
      case bhttp::verb::put:
      case bhttp::verb::delete_:
      case bhttp::verb::trace:
        return true;
      default:
        return false;
    }
  }

  // A failure talking to the backend before any answer reached the client: it gets the
  // reference's transport error, unless the request can safely go out again. A body read
  // from the client cannot be sent twice; a request the backend may have received is not
  // sent to another endpoint. A pooled connection found closed is the one case retried on
  // the same endpoint: the backend closed it while idle, so it saw nothing of an idempotent
  // request (non-idempotent ones check the pooled socket before using it, see take()).
  void upstream_io_failed(beast::error_code ec, bool request_sent) {
    bool timed_out = upstream_ && upstream_->timed_out();
    bool reused = upstream_ && upstream_->reused;
    bool replayable = !request_had_body() && !response_started_;
    upstream_.reset();
    if (reused && !timed_out && replayable && (!request_sent || idempotent())) {
      --attempts_;  // the same endpoint again, freshly connected
      return acquire_fresh();
    }
    long code = timed_out ? kUpstreamTimedOut : kUpstreamClosed;
    thread_.pool->record_failure(*endpoint_, code, coarse_now());
    if (!request_sent && !timed_out && replayable && attempts_ < group_->endpoints.size()) {
      return try_next_endpoint(code);
    }
    upstream_failed(code);
  }

  void acquire_fresh() {
    thread_.pool->connect(*endpoint_, [self = this->shared_from_this()](
                                          long code, std::unique_ptr<UpstreamConnection> c) {
      ++self->attempts_;
      if (code != 0) {
        self->thread_.pool->record_failure(*self->endpoint_, code, coarse_now());
        return self->try_next_endpoint(code);
      }
      self->upstream_ = std::move(c);
      self->send_upstream_head();
    });
  }

  void upstream_failed(long code) {
    auto& ctx = ctx_;
    ctx.upstream_error_code = code;
    if (response_started_) return abort();
    switch (code) {
      case kUpstreamTimedOut:
        return local_reply(504, code, "Gateway Timeout", "The backend did not answer in time",
                           "TARGET_CONNECTIVITY");
      case kUpstreamConnectTimedOut:
        return local_reply(504, code, "Gateway Timeout", "Timed out connecting to the backend",
                           "TARGET_CONNECTIVITY");
      case kUpstreamClosed:
        return local_reply(502, code, "Bad Gateway",
                           "The backend closed the connection without a response",
                           "TARGET_CONNECTIVITY");
      default:
        return local_reply(502, code, "Bad Gateway", "Error connecting to the backend",
                           "TARGET_CONNECTIVITY");
    }
  }

  // ---- Response ---------------------------------------------------------------------------

  void write_response_head() {
    auto& ctx = ctx_;
    auto& parser = *response_;
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
    if (!parser.is_done()) return relay_response_body();
    time_client(context_.options.read_timeout);
    net::async_write(stream_, net::buffer(response_head_),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->response_head_pending_ = false;
                       if (ec) return self->abort();
                       self->finish_response();
                     });
  }

  void relay_response_body() {
    auto& parser = *response_;
    parser.get().body().data = body_buffer_.data();
    parser.get().body().size = body_buffer_.size();
    time_upstream();
    upstream_->visit([this](auto& s) {
      bhttp::async_read_some(
          s, upstream_->buffer(), *response_,
          [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec == bhttp::error::need_buffer) ec = {};
            if (ec) {
              self->ctx_.upstream_error_code =
                  self->upstream_->timed_out() ? kUpstreamTimedOut : kUpstreamClosed;
              return self->abort();
            }
            std::size_t got = self->body_buffer_.size() - self->response_->get().body().size;
            self->write_response_piece(got);
          });
    });
  }

  void write_response_piece(std::size_t got) {
    bool done = response_->is_done();
    ctx_.response_bytes += static_cast<std::int64_t>(got);
    auto& pieces = pieces_;
    std::size_t count = 0;
    if (response_head_pending_) pieces[count++] = net::buffer(response_head_);
    if (downstream_chunked_ && got > 0) {
      auto [end, ec] = std::to_chars(chunk_head_, chunk_head_ + sizeof chunk_head_ - 2, got, 16);
      *end++ = '\r';
      *end++ = '\n';
      pieces[count++] = net::buffer(chunk_head_, static_cast<std::size_t>(end - chunk_head_));
    }
    if (got > 0) pieces[count++] = net::buffer(body_buffer_.data(), got);
    if (downstream_chunked_ && got > 0) pieces[count++] = net::buffer(kCrlf.data(), kCrlf.size());
    if (downstream_chunked_ && done)
      pieces[count++] = net::buffer(kLastChunk.data(), kLastChunk.size());
    if (count == 0) return done ? finish_response() : relay_response_body();
    time_client(context_.options.read_timeout);
    net::async_write(stream_, std::span<const net::const_buffer>(pieces.data(), count),
                     [self = this->shared_from_this(), done](beast::error_code ec, std::size_t) {
                       self->response_head_pending_ = false;
                       if (ec) return self->abort();
                       if (done) return self->finish_response();
                       self->relay_response_body();
                     });
  }

  // The exchange is complete: the backend connection goes back to the pool when both sides
  // of it ended cleanly, the client's stays open when it asked to.
  void finish_response() {
    if (upstream_) {
      if (response_->keep_alive() && response_->is_done() && request_done()) {
        thread_.pool->give_back(std::move(upstream_));
      } else {
        upstream_.reset();
      }
    }
    complete();
    if (!keep_alive_) return graceful_close();
    first_request_ = false;
    read_head();
  }

  // ---- Local replies ----------------------------------------------------------------------

  void local_reply(int status, long code, std::string_view message, std::string_view description,
                   std::string_view error_type) {
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
    upstream_.reset();
    if (response_started_) return abort();
    local_reply(status, code, message, description, "OTHER");
  }

  // Something failed after bytes went out: nothing sensible can follow on either connection.
  void abort() {
    upstream_.reset();
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
  std::optional<bhttp::response_parser<bhttp::buffer_body, FieldsAllocator>> response_;
  RequestContext ctx_;
  bool in_request_ = false;  // between start_request() and complete()
  std::function<void()> resume_;
  std::shared_ptr<ProxySession> pause_hold_;  // alive while a filter's async work runs
  std::size_t paused_at_ = 0;

  const EndpointGroup* group_ = nullptr;
  const Endpoint* endpoint_ = nullptr;
  std::size_t next_index_ = 0;
  std::size_t attempts_ = 0;
  std::unique_ptr<UpstreamConnection> upstream_;
  std::string upstream_head_;
  std::string forwarded_for_;
  std::string response_head_;
  std::array<char, kBodyChunk> body_buffer_{};
  char chunk_head_[24] = {};
  // One write: a pending head, then a body piece with its chunk framing.
  std::array<net::const_buffer, 5> pieces_;

  State state_ = State::kIdle;
  int version_minor_ = 1;
  bool expect_continue_ = false;
  bool upstream_chunked_ = false;
  bool upstream_head_pending_ = false;
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

#include "gateway/proxy_upstream.h"

#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl.hpp>

namespace portico::gateway {

namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::uint32_t kUpstreamHeaderLimit = 64 * 1024;
}  // namespace

UpstreamExchange::UpstreamExchange(ExchangeClient& client, ThreadState& thread, RequestContext& ctx,
                                   const ClientRequest& request, Deadline& client_deadline,
                                   std::pmr::memory_resource& fields_arena,
                                   std::span<char, kBodyChunk> body)
    : client_(client),
      thread_(thread),
      ctx_(ctx),
      request_(request),
      client_deadline_(client_deadline),
      fields_arena_(fields_arena),
      body_(body) {}

void UpstreamExchange::start() {
  pick_endpoint();
}

void UpstreamExchange::close_connection() {
  beast::error_code ignored;
  if (upstream_) upstream_->lowest().close(ignored);
}

// One side at a time has an operation under way, and only that side is timed: a slow
// backend is not the client's delay, nor a slow reader the backend's.
void UpstreamExchange::stop_timer() {
  if (upstream_) upstream_->deadline().expires_never();
}

void UpstreamExchange::time_upstream() {
  upstream_->deadline().expires_after(endpoint_->read_timeout);
  client_deadline_.expires_never();
}

void UpstreamExchange::pick_endpoint() {
  auto& ctx = ctx_;
  const Api& api = *ctx.route.api;
  const auto& group = ctx.key_type == "SANDBOX" ? api.sandbox : api.production;
  if (!group || group->endpoints.empty()) {
    return client_.local_reply(403, 900908, "Resource forbidden",
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
void UpstreamExchange::try_next_endpoint(long last_code) {
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

void UpstreamExchange::acquire_connection() {
  ctx_.upstream_started = Clock::now();
  if (auto pooled = thread_.pool->take(*endpoint_, !client_.request_done() || !idempotent())) {
    upstream_ = std::move(pooled);
    return send_upstream_head();
  }
  thread_.pool->connect(
      *endpoint_, [this, hold = client_.hold()](long code, std::unique_ptr<UpstreamConnection> c) {
        if (code != 0) {
          thread_.pool->record_failure(*endpoint_, code, coarse_now());
          return try_next_endpoint(code);
        }
        upstream_ = std::move(c);
        send_upstream_head();
      });
}

// The request line and fields for the backend: the resource path under the endpoint's base
// path, the client's fields minus hop-by-hop ones and the credential, the filters' edits,
// and the X-Forwarded-* trail.
void UpstreamExchange::build_upstream_head() {
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
  if (!client_.request_done()) {
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
void UpstreamExchange::append_query(std::string& out) {
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
void UpstreamExchange::send_upstream_head() {
  build_upstream_head();
  upstream_head_pending_ = true;
  if (!client_.request_done()) return client_.read_request_piece();
  time_upstream();
  upstream_->visit([this](auto& s) {
    net::async_write(s, net::buffer(upstream_head_),
                     [this, hold = client_.hold()](beast::error_code ec, std::size_t) {
                       upstream_head_pending_ = false;
                       if (ec) return upstream_io_failed(ec, false);
                       read_upstream_head();
                     });
  });
}

void UpstreamExchange::write_request_piece(std::size_t got) {
  bool done = client_.request_done();
  auto pieces = piece_write_.gather(upstream_head_pending_ ? &upstream_head_ : nullptr,
                                    upstream_chunked_, body_.data(), got, done);
  if (pieces.empty()) return done ? read_upstream_head() : client_.read_request_piece();
  time_upstream();
  upstream_->visit([&](auto& s) {
    net::async_write(s, pieces,
                     [this, hold = client_.hold(), done](beast::error_code ec, std::size_t) {
                       upstream_head_pending_ = false;
                       // A pooled connection found closed on the first write: nothing of
                       // the body was consumed by the backend, but it was read from the
                       // client, so it cannot be sent again.
                       if (ec) return upstream_io_failed(ec, true);
                       if (done) return read_upstream_head();
                       client_.read_request_piece();
                     });
  });
}

void UpstreamExchange::read_upstream_head() {
  auto& parser = response_.emplace(std::piecewise_construct, std::make_tuple(),
                                   std::make_tuple(FieldsAllocator(&fields_arena_)));
  parser.header_limit(kUpstreamHeaderLimit);
  parser.body_limit(boost::none);
  if (request_.method() == bhttp::verb::head) parser.skip(true);
  time_upstream();
  upstream_->visit([this](auto& s) {
    bhttp::async_read_header(
        s, upstream_->buffer(), *response_,
        [this, hold = client_.hold()](beast::error_code ec, std::size_t) { on_upstream_head(ec); });
  });
}

void UpstreamExchange::on_upstream_head(beast::error_code ec) {
  if (ec) return upstream_io_failed(ec, true);
  auto& message = response_->get();
  unsigned status = message.result_int();
  if (status >= 100 && status < 200) {
    // Interim responses (100 Continue, 103 Early Hints) are the gateway's business with the
    // backend; 101 would switch protocols, which an API call through this gateway cannot.
    if (status == 101) return upstream_io_failed(bhttp::error::bad_version, true);
    return read_upstream_head();
  }
  ctx_.upstream_head_received = Clock::now();
  ctx_.target_status = static_cast<int>(status);
  thread_.pool->record_success(*endpoint_);
  client_.on_response_head();
}

bool UpstreamExchange::request_had_body() const {
  return ctx_.request_bytes > 0 || upstream_chunked_;
}

// RFC 9110 §9.2.2: a repeated request has the effect of one.
bool UpstreamExchange::idempotent() const {
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
void UpstreamExchange::upstream_io_failed(beast::error_code ec, bool request_sent) {
  bool timed_out = upstream_ && upstream_->timed_out();
  bool reused = upstream_ && upstream_->reused;
  bool replayable = !request_had_body() && !client_.response_started();
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

void UpstreamExchange::acquire_fresh() {
  thread_.pool->connect(
      *endpoint_, [this, hold = client_.hold()](long code, std::unique_ptr<UpstreamConnection> c) {
        ++attempts_;
        if (code != 0) {
          thread_.pool->record_failure(*endpoint_, code, coarse_now());
          return try_next_endpoint(code);
        }
        upstream_ = std::move(c);
        send_upstream_head();
      });
}

void UpstreamExchange::upstream_failed(long code) {
  ctx_.upstream_error_code = code;
  if (client_.response_started()) return client_.abort();
  switch (code) {
    case kUpstreamTimedOut:
      return client_.local_reply(504, code, "Gateway Timeout", "The backend did not answer in time",
                                 "TARGET_CONNECTIVITY");
    case kUpstreamConnectTimedOut:
      return client_.local_reply(504, code, "Gateway Timeout",
                                 "Timed out connecting to the backend", "TARGET_CONNECTIVITY");
    case kUpstreamClosed:
      return client_.local_reply(502, code, "Bad Gateway",
                                 "The backend closed the connection without a response",
                                 "TARGET_CONNECTIVITY");
    default:
      return client_.local_reply(502, code, "Bad Gateway", "Error connecting to the backend",
                                 "TARGET_CONNECTIVITY");
  }
}

void UpstreamExchange::relay_response_body() {
  auto& parser = *response_;
  parser.get().body().data = body_.data();
  parser.get().body().size = body_.size();
  time_upstream();
  upstream_->visit([this](auto& s) {
    bhttp::async_read_some(s, upstream_->buffer(), *response_,
                           [this, hold = client_.hold()](beast::error_code ec, std::size_t) {
                             if (ec == bhttp::error::need_buffer) ec = {};
                             if (ec) {
                               ctx_.upstream_error_code =
                                   upstream_->timed_out() ? kUpstreamTimedOut : kUpstreamClosed;
                               return client_.abort();
                             }
                             std::size_t got = body_.size() - response_->get().body().size;
                             client_.write_response_piece(got);
                           });
  });
}

void UpstreamExchange::finish(bool request_done) {
  if (!upstream_) return;
  if (response_->keep_alive() && response_->is_done() && request_done) {
    thread_.pool->give_back(std::move(upstream_));
  } else {
    upstream_.reset();
  }
}

}  // namespace portico::gateway

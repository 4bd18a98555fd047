#include "gateway/proxy_wire.h"

#include <boost/beast/http/rfc7230.hpp>

#include <charconv>
#include <stdexcept>

namespace portico::gateway {

namespace bhttp = boost::beast::http;

namespace {
constexpr std::string_view kLastChunk = "0\r\n\r\n";
}  // namespace

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

ConnectionOptions::ConnectionOptions(const Fields& fields) {
  auto [line, last] = fields.equal_range(bhttp::field::connection);
  for (; line != last; ++line) add(line->value());
}

ConnectionOptions::ConnectionOptions(const ClientRequest& request) {
  for (const auto& field : request.fields()) {
    if (field.known == bhttp::field::connection) add(field.value);
  }
}

bool ConnectionOptions::names(std::string_view field) const {
  for (std::size_t i = 0; i < count_; ++i) {
    if (iequals(names_[i], field)) return true;
  }
  return overflow_;
}

void ConnectionOptions::add(std::string_view line) {
  for (auto token : bhttp::token_list(line)) {
    if (iequals(token, "keep-alive") || iequals(token, "close")) continue;
    if (count_ < names_.size()) {
      names_[count_++] = token;
    } else {
      overflow_ = true;  // more names than anyone sends: drop every unknown field
    }
  }
}

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

std::span<const net::const_buffer> BodyPieceWrite::gather(const std::string* pending_head,
                                                          bool chunked, const char* data,
                                                          std::size_t got, bool done) {
  std::size_t count = 0;
  if (pending_head) pieces_[count++] = net::buffer(*pending_head);
  if (chunked && got > 0) {
    auto [end, ec] = std::to_chars(chunk_head_, chunk_head_ + sizeof chunk_head_ - 2, got, 16);
    *end++ = '\r';
    *end++ = '\n';
    pieces_[count++] = net::buffer(chunk_head_, static_cast<std::size_t>(end - chunk_head_));
  }
  if (got > 0) pieces_[count++] = net::buffer(data, got);
  if (chunked && got > 0) pieces_[count++] = net::buffer(kCrlf.data(), kCrlf.size());
  if (chunked && done) pieces_[count++] = net::buffer(kLastChunk.data(), kLastChunk.size());
  return {pieces_.data(), count};
}

}  // namespace portico::gateway

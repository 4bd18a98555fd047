#include "gateway/client_request.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include <algorithm>
#include <charconv>

namespace portico::gateway {

namespace bhttp = boost::beast::http;

namespace {

std::string_view trim(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

}  // namespace

void ClientRequest::assign(std::string_view data, const http::detail::RequestHeadScanner& scanner) {
  const auto& info = scanner.info();
  bytes_.assign(data.data(), scanner.head_size());
  std::string_view head = bytes_;
  method_string_ = head.substr(info.request_line_offset, info.method_size);
  method_ = bhttp::string_to_verb(method_string_);
  target_ = head.substr(info.target_offset, info.target_size);
  version_minor_ = info.version_minor;
  content_length_ = info.content_length;
  chunked_ = info.chunked;
  has_body_ = chunked_ || content_length_.value_or(0) > 0;

  fields_.clear();
  bool close = false, keep_alive = false;
  for (const auto& span : scanner.fields()) {
    Field& f = fields_.emplace_back();
    f.name = head.substr(span.name_offset, span.name_size);
    f.value = trim(head.substr(span.value_offset, span.value_size));
    f.known = bhttp::string_to_field(f.name);
    if (f.known != bhttp::field::connection) continue;
    for (auto token : bhttp::token_list(f.value)) {
      if (boost::beast::iequals(token, "close")) close = true;
      if (boost::beast::iequals(token, "keep-alive")) keep_alive = true;
    }
  }
  keep_alive_ = version_minor_ >= 1 ? !close : keep_alive && !close;
}

std::string_view ClientRequest::body_framing_head(std::span<char, 64> scratch) const {
  constexpr std::string_view kChunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  constexpr std::string_view kLength = "POST / HTTP/1.1\r\nContent-Length: ";
  constexpr std::string_view kEnd = "\r\n\r\n";
  if (chunked_) return kChunked;
  // 20 digits at most: the line fits 64 bytes.
  char* out = std::copy(kLength.begin(), kLength.end(), scratch.data());
  out =
      std::to_chars(out, scratch.data() + scratch.size() - kEnd.size(), content_length_.value_or(0))
          .ptr;
  out = std::copy(kEnd.begin(), kEnd.end(), out);
  return {scratch.data(), static_cast<std::size_t>(out - scratch.data())};
}

std::optional<std::string_view> ClientRequest::find(std::string_view name) const {
  for (const auto& f : fields_) {
    if (boost::beast::iequals(f.name, name)) return f.value;
  }
  return std::nullopt;
}

std::string_view ClientRequest::operator[](bhttp::field known) const {
  for (const auto& f : fields_) {
    if (f.known == known) return f.value;
  }
  return {};
}

}  // namespace portico::gateway

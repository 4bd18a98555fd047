#pragma once
// Internal to src/gateway: the head of a client's request as the strict scanner validated
// it. The head's bytes are copied once and the method, target and fields are views into the
// copy: Beast's parser would go over the same bytes a second time, and a bearer token makes
// that the dearest part of the head.
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_head.h"

namespace portico::gateway {

class ClientRequest {
 public:
  struct Field {
    std::string_view name;
    std::string_view value;  // without the whitespace around it
    boost::beast::http::field known = boost::beast::http::field::unknown;
  };

  ClientRequest() = default;
  // The views point into this object's own copy of the head.
  ClientRequest(const ClientRequest&) = delete;
  ClientRequest& operator=(const ClientRequest&) = delete;

  // `data` starts with the head `scanner` completed on. Keeps the memory of the previous
  // request's head.
  void assign(std::string_view data, const http::detail::RequestHeadScanner& scanner);

  std::string_view method_string() const { return method_string_; }
  boost::beast::http::verb method() const { return method_; }
  std::string_view target() const { return target_; }
  int version_minor() const { return version_minor_; }
  // RFC 9112 §9.3: HTTP/1.1 persists unless "close" is named; HTTP/1.0 only with keep-alive.
  bool keep_alive() const { return keep_alive_; }
  // A body follows the head: a Content-Length above 0, or chunked.
  bool has_body() const { return has_body_; }
  std::optional<std::uint64_t> content_length() const { return content_length_; }
  bool chunked() const { return chunked_; }

  // A head that says only how the body is framed, written into `scratch`: Beast's parser
  // decodes the body (chunks, length) after it. The scanner validated the framing, and the
  // rest of the head is here, so Beast need not read the real head.
  std::string_view body_framing_head(std::span<char, 64> scratch) const;

  std::span<const Field> fields() const { return fields_; }
  // The first field of that name (case-insensitive), if any.
  std::optional<std::string_view> find(std::string_view name) const;
  // The first field of that kind, or "".
  std::string_view operator[](boost::beast::http::field known) const;

 private:
  std::string bytes_;
  std::vector<Field> fields_;
  std::string_view method_string_;
  boost::beast::http::verb method_ = boost::beast::http::verb::unknown;
  std::string_view target_;
  int version_minor_ = 1;
  bool keep_alive_ = true;
  bool has_body_ = false;
  bool chunked_ = false;
  std::optional<std::uint64_t> content_length_;
};

}  // namespace portico::gateway

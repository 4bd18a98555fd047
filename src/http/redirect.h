#pragma once
// Redirects to URLs that users stored (a document's sourceUrl): only to absolute http(s)
// URLs, so that a stored `javascript:`, `data:` or scheme-relative link never reaches a
// browser's Location, and with nosniff on the answer.
#include <optional>
#include <string_view>

#include "http/message.h"

namespace portico::http {

// An absolute http:// or https:// URL with a host, no control characters, spaces, quotes,
// angle brackets or backslashes, at most 2048 characters.
bool is_http_url(std::string_view url);

// 303 See Other to `url` with X-Content-Type-Options: nosniff; nullopt when `url` is not an
// http(s) URL.
std::optional<Response> redirect_to_stored_url(std::string_view url);

}  // namespace portico::http

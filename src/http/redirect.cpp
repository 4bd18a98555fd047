#include "http/redirect.h"

#include <string>

namespace portico::http {

bool is_http_url(std::string_view url) {
  if (url.size() > 2048) return false;
  std::size_t host_start;
  if (url.rfind("http://", 0) == 0) {
    host_start = 7;
  } else if (url.rfind("https://", 0) == 0) {
    host_start = 8;
  } else {
    return false;
  }
  for (unsigned char c : url)
    if (c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\') return false;
  std::size_t host_end = url.find_first_of("/?#", host_start);
  std::string_view authority =
      url.substr(host_start, host_end == std::string_view::npos ? std::string_view::npos
                                                                : host_end - host_start);
  if (authority.find('@') != std::string_view::npos)
    authority.remove_prefix(authority.find('@') + 1);
  return !authority.empty() && authority[0] != ':';
}

std::optional<Response> redirect_to_stored_url(std::string_view url) {
  if (!is_http_url(url)) return std::nullopt;
  Response r;
  r.status = 303;
  r.headers.set("Location", std::string(url));
  r.headers.set("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace portico::http

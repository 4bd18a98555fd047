#include "http/user_content.h"

namespace portico::http {
namespace {

// A quoted-string filename limited to printable ASCII without quote or backslash: what every
// browser parses alike. Other characters become '_'; the name is a hint, not an identifier.
std::string safe_filename(std::string_view name) {
  std::string out;
  for (unsigned char c : name.substr(0, 255)) {
    out += (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '/') ? '_' : static_cast<char>(c);
  }
  return out.empty() ? "download" : out;
}

}  // namespace

void mark_user_content(Response& response, Disposition disposition, std::string_view filename) {
  response.headers.set("X-Content-Type-Options", "nosniff");
  // Even opened as a page of its own (an SVG with script, an HTML file), the content gets a
  // unique opaque origin and may load and run nothing.
  response.headers.set("Content-Security-Policy", "default-src 'none'; sandbox");
  const char* kind = disposition == Disposition::inline_image ? "inline" : "attachment";
  response.headers.set("Content-Disposition",
                       std::string(kind) + "; filename=\"" + safe_filename(filename) + "\"");
}

Response user_content(std::string content_type, std::string body, Disposition disposition,
                      std::string_view filename) {
  Response response;
  response.status = 200;
  response.headers.set("Content-Type", std::move(content_type));
  response.body = std::move(body);
  mark_user_content(response, disposition, filename);
  return response;
}

}  // namespace portico::http

#include "http/multipart.h"

#include <algorithm>
#include <cctype>

namespace portico::http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of parameter `key` in a header such as `form-data; name="file"; filename="a.png"`.
// Quoted values may hold ';' and escaped quotes.
std::optional<std::string> header_parameter(std::string_view header, std::string_view key) {
  std::size_t pos = header.find(';');
  while (pos != std::string_view::npos && pos < header.size()) {
    ++pos;
    while (pos < header.size() && (header[pos] == ' ' || header[pos] == '\t')) ++pos;
    std::size_t eq = header.find('=', pos);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string name = lower(trim(header.substr(pos, eq - pos)));
    std::size_t vpos = eq + 1;
    std::string value;
    if (vpos < header.size() && header[vpos] == '"') {
      ++vpos;
      while (vpos < header.size() && header[vpos] != '"') {
        if (header[vpos] == '\\' && vpos + 1 < header.size()) ++vpos;
        value += header[vpos++];
      }
      if (vpos >= header.size()) return std::nullopt;  // unterminated quote
      ++vpos;
      pos = header.find(';', vpos);
    } else {
      std::size_t end = header.find(';', vpos);
      value = std::string(trim(header.substr(
          vpos, end == std::string_view::npos ? std::string_view::npos : end - vpos)));
      pos = end;
    }
    if (name == key) return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  std::size_t semi = content_type.find(';');
  if (lower(trim(content_type.substr(0, semi))) != "multipart/form-data") return std::nullopt;
  auto boundary = header_parameter(content_type, "boundary");
  // RFC 2046: 1 to 70 characters, and none that would let it hide inside a line ending.
  if (!boundary || boundary->empty() || boundary->size() > 70) return std::nullopt;
  for (char c : *boundary)
    if (c == '\r' || c == '\n') return std::nullopt;
  return boundary;
}

std::optional<std::vector<FormPart>> parse_multipart(std::string_view body,
                                                     std::string_view boundary,
                                                     const MultipartLimits& limits) {
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next_delimiter = "\r\n" + delimiter;
  std::vector<FormPart> parts;
  // The preamble ends at the first delimiter, which may open the body directly.
  std::size_t pos;
  if (body.substr(0, delimiter.size()) == delimiter) {
    pos = delimiter.size();
  } else {
    std::size_t first = body.find(next_delimiter);
    if (first == std::string_view::npos) return std::nullopt;
    pos = first + next_delimiter.size();
  }
  while (true) {
    // After a delimiter: "--" closes the body, CRLF opens a part (transport padding allowed).
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) == "--") return parts;
    if (body.substr(pos, 2) != "\r\n") return std::nullopt;
    pos += 2;
    if (parts.size() >= limits.max_parts) return std::nullopt;
    // Header lines end with an empty line; a part without headers starts with it.
    std::string_view headers;
    std::size_t data_start;
    if (body.substr(pos, 2) == "\r\n") {
      data_start = pos + 2;
    } else {
      std::size_t headers_end = body.find("\r\n\r\n", pos);
      if (headers_end == std::string_view::npos) return std::nullopt;
      if (headers_end - pos > limits.max_header_bytes) return std::nullopt;
      headers = body.substr(pos, headers_end - pos);
      data_start = headers_end + 4;
    }
    FormPart part;
    bool disposition = false;
    std::size_t line_start = 0;
    while (line_start < headers.size()) {
      std::size_t line_end = headers.find("\r\n", line_start);
      if (line_end == std::string_view::npos) line_end = headers.size();
      std::string_view line = headers.substr(line_start, line_end - line_start);
      line_start = line_end + 2;
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) return std::nullopt;
      std::string field = lower(trim(line.substr(0, colon)));
      std::string_view value = trim(line.substr(colon + 1));
      if (field == "content-disposition") {
        if (lower(trim(value.substr(0, value.find(';')))) != "form-data") return std::nullopt;
        auto name = header_parameter(value, "name");
        if (!name) return std::nullopt;
        part.name = *name;
        part.filename = header_parameter(value, "filename").value_or("");
        disposition = true;
      } else if (field == "content-type") {
        part.content_type = std::string(value);
      }
    }
    if (!disposition) return std::nullopt;
    std::size_t data_end = body.find(next_delimiter, data_start);
    if (data_end == std::string_view::npos) return std::nullopt;
    part.data = std::string(body.substr(data_start, data_end - data_start));
    parts.push_back(std::move(part));
    pos = data_end + next_delimiter.size();
  }
}

const FormPart* find_part(const std::vector<FormPart>& parts, std::string_view name) {
  for (const FormPart& part : parts)
    if (part.name == name) return &part;
  return nullptr;
}

}  // namespace portico::http

#include "http/request_head.h"

#include <boost/beast/http/rfc7230.hpp>
#include <boost/url/authority_view.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace portico::http::detail {

namespace {

namespace bhttp = boost::beast::http;

// RFC 9112 §2.2 asks servers to tolerate stray CRLFs before a request line (some clients
// send one after a POST body); a few are enough, a stream of them is not a request.
constexpr std::size_t kMaxLeadingEmptyBytes = 16;

// A field value may hold HTAB, SP and visible characters (and obs-text); any other control
// character is refused. Values are long (bearer tokens, cookies): 16 bytes at a time where
// SSE2 is there (every x86-64), since GCC leaves the plain loop scalar at -O2.
bool has_control_character(std::string_view value) {
  const char* p = value.data();
  const char* end = p + value.size();
#if defined(__SSE2__)
  const __m128i max_control = _mm_set1_epi8(0x1f);
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i del = _mm_set1_epi8(0x7f);
  for (; end - p >= 16; p += 16) {
    __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Unsigned b <= 0x1f exactly when max(b, 0x1f) == 0x1f.
    __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(bytes, max_control), max_control);
    control = _mm_andnot_si128(_mm_cmpeq_epi8(bytes, tab), control);
    control = _mm_or_si128(control, _mm_cmpeq_epi8(bytes, del));
    if (_mm_movemask_epi8(control) != 0) return true;
  }
#endif
  for (; p != end; ++p) {
    auto u = static_cast<unsigned char>(*p);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return true;
  }
  return false;
}

// "name" or "name:port" with a name of letters, digits, '.' and '-' (every DNS name and IPv4
// address): a valid authority without userinfo, the Host of nearly every request. Anything
// else is left to Boost.URL's full grammar.
bool is_plain_host(std::string_view host) {
  std::size_t colon = host.find(':');
  std::string_view name = host.substr(0, colon);
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-'))
      return false;
  }
  if (colon == std::string_view::npos) return true;
  std::string_view port = host.substr(colon + 1);
  return std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

void RequestHeadScanner::reset() {
  pos_ = line_start_ = fields_start_ = head_size_ = 0;
  in_request_line_ = true;
  fields_.clear();
  info_ = {};
  error_ = {};
}

RequestHeadScanner::Status RequestHeadScanner::fail(int status, std::string description) {
  error_ = {status, std::move(description)};
  return Status::kError;
}

RequestHeadScanner::Status RequestHeadScanner::scan(std::string_view data) {
  // Line by line with memchr rather than byte by byte: a head is mostly long field values
  // (tokens, cookies), and this runs on every request the gateway takes.
  const char* base = data.data();
  while (pos_ < data.size()) {
    const void* lf = std::memchr(base + pos_, '\n', data.size() - pos_);
    std::size_t end = lf ? static_cast<const char*>(lf) - base : data.size();
    // Bytes [pos_, content_end) belong to the line; a CR right before the LF ends it.
    std::size_t content_end = end;
    if (lf && end > pos_ && base[end - 1] == '\r') content_end = end - 1;
    std::size_t bare_cr = data.size();
    if (const void* cr = std::memchr(base + pos_, '\r', content_end - pos_)) {
      bare_cr = static_cast<const char*>(cr) - base;
    }
    // The first byte past a limit, as if the line were scanned byte by byte.
    std::size_t limit_at = in_request_line_ ? line_start_ + limits_.max_request_line_bytes
                                            : fields_start_ + limits_.max_header_bytes;
    std::size_t checked_end = std::min(content_end, bare_cr);
    if (checked_end > limit_at) {
      if (in_request_line_) {
        return fail(414, "Request line exceeds " + std::to_string(limits_.max_request_line_bytes) +
                             " bytes");
      }
      return fail(431,
                  "Header fields exceed " + std::to_string(limits_.max_header_bytes) + " bytes");
    }
    if (bare_cr < data.size()) {
      // Whether a CR at the very end ends a line is known only with the next byte.
      if (!lf && bare_cr + 1 == data.size()) {
        pos_ = bare_cr;
        return Status::kNeedMore;
      }
      return fail(400, "CR not followed by LF (bare CR)");
    }
    if (!lf) {
      pos_ = data.size();
      return Status::kNeedMore;
    }
    pos_ = end;
    if (pos_ == line_start_ || base[pos_ - 1] != '\r') {
      return fail(400, "Line ending without CR (bare LF)");
    }
    std::string_view line = data.substr(line_start_, pos_ - 1 - line_start_);
    std::size_t offset = line_start_;
    line_start_ = ++pos_;
    Status status = Status::kNeedMore;
    if (in_request_line_) {
      if (line.empty()) {
        if (line_start_ > kMaxLeadingEmptyBytes) return fail(400, "Empty request line");
        info_.request_line_offset = line_start_;
        continue;
      }
      status = on_request_line(line);
      fields_start_ = line_start_;
    } else if (line.empty()) {
      head_size_ = pos_;
      return on_head_end(data);
    } else {
      status = on_field_line(line, offset);
    }
    if (status != Status::kNeedMore) return status;
  }
  return Status::kNeedMore;
}

RequestHeadScanner::Status RequestHeadScanner::on_request_line(std::string_view line) {
  in_request_line_ = false;
  // HTAB is not allowed here either: the request line's only separator is a single SP.
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return fail(400, "Control character in the request line");
  }
  auto first_sp = line.find(' ');
  if (first_sp == std::string_view::npos) return fail(400, "Malformed request line");
  auto second_sp = line.find(' ', first_sp + 1);
  if (second_sp == std::string_view::npos) return fail(400, "Malformed request line");
  std::string_view method = line.substr(0, first_sp);
  std::string_view target = line.substr(first_sp + 1, second_sp - first_sp - 1);
  std::string_view version = line.substr(second_sp + 1);
  info_.method_size = first_sp;
  info_.target_offset = info_.request_line_offset + first_sp + 1;
  info_.target_size = target.size();

  if (!is_token(method)) return fail(400, "Invalid method");
  if (target.empty()) return fail(400, "Malformed request line");
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '#') return fail(400, "Invalid character in request target");
  }
  if (version == "HTTP/1.1") {
    info_.version_minor = 1;
  } else if (version == "HTTP/1.0") {
    info_.version_minor = 0;
  } else if (version.size() == 8 && version.starts_with("HTTP/") && is_digit(version[5]) &&
             version[6] == '.' && is_digit(version[7])) {
    // A well-formed version this server does not speak (HTTP/2.0 in an HTTP/1 connection,
    // HTTP/0.9, ...) gets 505 rather than 400: the request is not garbage, the client can
    // retry with HTTP/1.1. Either way the connection is closed.
    return fail(505, "HTTP version " + std::string(version.substr(5)) + " is not supported");
  } else {
    return fail(400, "Malformed HTTP version");
  }
  return Status::kNeedMore;
}

RequestHeadScanner::Status RequestHeadScanner::on_field_line(std::string_view line,
                                                             std::size_t offset) {
  if (fields_.size() >= limits_.max_header_count) {
    return fail(431, "More than " + std::to_string(limits_.max_header_count) + " header fields");
  }
  if (is_ows(line.front())) {
    return fail(400, "Header line starts with whitespace (obsolete line folding)");
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return fail(400, "Header line without a colon");
  // A space before the colon is one of the classic smuggling vectors (RFC 9112 §5.1).
  if (!is_token(line.substr(0, colon))) return fail(400, "Invalid header field name");
  if (has_control_character(line.substr(colon + 1)))
    return fail(400, "Control character in a header field value");
  fields_.push_back({offset, colon, offset + colon + 1, line.size() - colon - 1});
  return Status::kNeedMore;
}

RequestHeadScanner::Status RequestHeadScanner::on_head_end(std::string_view data) {
  int host_count = 0, content_length_count = 0, transfer_encoding_count = 0;
  std::string_view host, content_length, transfer_encoding, expect;
  bool has_expect = false;
  for (const auto& field : fields_) {
    std::string_view name = data.substr(field.name_offset, field.name_size);
    std::string_view value = data.substr(field.value_offset, field.value_size);
    if (iequals(name, "host")) {
      ++host_count;
      host = trim_ows(value);
    } else if (iequals(name, "content-length")) {
      ++content_length_count;
      content_length = trim_ows(value);
    } else if (iequals(name, "transfer-encoding")) {
      ++transfer_encoding_count;
      transfer_encoding = value;
    } else if (iequals(name, "expect")) {
      has_expect = true;
      expect = trim_ows(value);
    } else if (iequals(name, "connection") || iequals(name, "proxy-connection")) {
      // A list of tokens (RFC 9110 §7.6.1), as Beast's parser requires of it too: what it
      // names is dropped before forwarding, so it must read the same everywhere.
      if (!bhttp::validate_list(bhttp::opt_token_list{value}))
        return fail(400, "Malformed Connection header");
    }
  }

  if (host_count > 1) return fail(400, "More than one Host header");
  if (host_count == 0 && info_.version_minor == 1) return fail(400, "Missing Host header");
  if (host_count == 1 && !host.empty() && !is_plain_host(host)) {
    auto authority = boost::urls::parse_authority(host);
    if (!authority || authority->has_userinfo()) return fail(400, "Invalid Host header");
  }

  // Two framings, or an ambiguous one, mean a proxy in front may see a different request
  // boundary than this server: refuse rather than guess.
  if (content_length_count > 1) return fail(400, "More than one Content-Length header");
  if (transfer_encoding_count > 1) return fail(400, "More than one Transfer-Encoding header");
  if (content_length_count == 1 && transfer_encoding_count == 1) {
    return fail(400, "Both Content-Length and Transfer-Encoding");
  }
  if (transfer_encoding_count == 1) {
    if (info_.version_minor == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    // Only the exact coding: no trailing whitespace, no lists, no look-alikes. Leading OWS is
    // the ordinary space after the colon.
    std::string_view coding = transfer_encoding;
    while (!coding.empty() && is_ows(coding.front())) coding.remove_prefix(1);
    if (!iequals(coding, "chunked")) return fail(400, "Unsupported Transfer-Encoding");
    info_.chunked = true;
  }
  if (content_length_count == 1) {
    std::uint64_t length = 0;
    auto [end, ec] = std::from_chars(content_length.data(),
                                     content_length.data() + content_length.size(), length);
    // from_chars accepts a leading '-' for unsigned types in some libraries; digits only here.
    bool digits_only = !content_length.empty() &&
                       std::all_of(content_length.begin(), content_length.end(), is_digit);
    if (!digits_only || ec != std::errc{} || end != content_length.data() + content_length.size()) {
      return fail(400, "Invalid Content-Length");
    }
    info_.content_length = length;
  }
  if (info_.content_length && *info_.content_length > limits_.max_body_bytes) {
    return fail(413, "Request body exceeds " + std::to_string(limits_.max_body_bytes) + " bytes");
  }
  // HTTP/1.0 predates Expect, and RFC 9110 §10.1.1 has servers ignore it there.
  if (has_expect && info_.version_minor == 1) {
    if (!iequals(expect, "100-continue")) return fail(417, "Unsupported expectation");
    info_.expect_continue = true;
  }
  return Status::kComplete;
}

}  // namespace portico::http::detail

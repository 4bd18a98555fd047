#pragma once
// Internal to src/http. A strict, incremental scanner for the head of an HTTP/1.x request
// (request line and header fields). Beast's parser accepts obs-fold, bare LF and other
// leftovers that let a front proxy and this server disagree on where a request ends
// (request smuggling), so the raw bytes are checked here before Beast sees them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::http::detail {

struct HeadLimits {
  std::size_t max_request_line_bytes = 8 * 1024;
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_header_count = 100;
  std::size_t max_body_bytes = 10 * 1024 * 1024;
};

// The request cannot be served: answer `status` and close the connection.
struct HeadError {
  int status = 400;
  std::string description;
};

// The framing facts of a complete, validated head.
struct HeadInfo {
  int version_minor = 1;  // HTTP/1.<minor>
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool expect_continue = false;
  std::size_t request_line_offset = 0;  // leading empty lines skipped before the request line
  // The method runs from request_line_offset for method_size bytes; then SP, the target.
  std::size_t method_size = 0;
  std::size_t target_offset = 0, target_size = 0;
};

// Where one field line's name and value lie in the scanned bytes; the value as received,
// with the whitespace around it.
struct FieldSpan {
  std::size_t name_offset, name_size, value_offset, value_size;
};

class RequestHeadScanner {
 public:
  enum class Status { kNeedMore, kComplete, kError };

  explicit RequestHeadScanner(HeadLimits limits) : limits_(limits) {}

  // `data` holds every byte received since the request began; each call passes the bytes of
  // the previous call plus any new ones. Scanning resumes where it stopped, so a slow client
  // costs linear time.
  Status scan(std::string_view data);
  void reset();

  // Valid after kComplete: the bytes from the start of `data` through the blank line.
  std::size_t head_size() const { return head_size_; }
  const HeadInfo& info() const { return info_; }
  const std::vector<FieldSpan>& fields() const { return fields_; }
  // Valid after kError.
  const HeadError& error() const { return error_; }

 private:
  Status fail(int status, std::string description);
  Status on_request_line(std::string_view line);
  Status on_field_line(std::string_view line, std::size_t offset);
  Status on_head_end(std::string_view data);

  HeadLimits limits_;
  std::size_t pos_ = 0;         // next byte to scan
  std::size_t line_start_ = 0;  // first byte of the line being scanned
  std::size_t fields_start_ = 0;
  bool in_request_line_ = true;
  std::vector<FieldSpan> fields_;
  std::size_t head_size_ = 0;
  HeadInfo info_;
  HeadError error_;
};

}  // namespace portico::http::detail

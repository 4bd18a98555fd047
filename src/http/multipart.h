#pragma once
// multipart/form-data (RFC 7578) request bodies, parsed whole and bounded: the body is already
// size-limited by the server, and this parser also caps the number of parts and the size of
// each part's headers, so that a crafted body cannot make it work or allocate without limit.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::http {

struct FormPart {
  std::string name;          // from Content-Disposition: form-data; name="..."
  std::string filename;      // empty when the part is not a file
  std::string content_type;  // the part's Content-Type, empty when absent
  std::string data;
};

struct MultipartLimits {
  std::size_t max_parts = 32;
  std::size_t max_header_bytes = 8192;  // per part
};

// The boundary parameter of a multipart/form-data Content-Type; nullopt when the type is not
// multipart/form-data or the boundary is missing or malformed.
std::optional<std::string> multipart_boundary(std::string_view content_type);

// The parts of `body`; nullopt when it is not well-formed multipart with that boundary or it
// exceeds `limits`.
std::optional<std::vector<FormPart>> parse_multipart(std::string_view body,
                                                     std::string_view boundary,
                                                     const MultipartLimits& limits = {});

// The first part named `name`, if any.
const FormPart* find_part(const std::vector<FormPart>& parts, std::string_view name);

}  // namespace portico::http

#pragma once
// The reference's list envelope: {"count", "list", "pagination": {offset, limit, total,
// next, previous}} and the `limit` / `offset` query parameters that drive it.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <string>

#include "http/message.h"

namespace portico::http {

struct Page {
  std::int64_t limit = 25;
  std::int64_t offset = 0;
};

inline constexpr std::int64_t kMaxPageLimit = 1000;

// `limit` (1..1000, default 25) and `offset` (>= 0, default 0); ApiError 400 otherwise.
Page read_page(const Request& request);

// The envelope around one page of `list`. `path` (e.g. "/apis") and `query` (other
// parameters, already encoded, e.g. "query=name%3Apets") build the next/previous links.
boost::json::object list_envelope(boost::json::array list, const Page& page, std::int64_t total,
                                  const std::string& path, const std::string& query = "");

}  // namespace portico::http

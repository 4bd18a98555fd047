#include "http/paging.h"

#include <charconv>

#include "common/api_error.h"

namespace portico::http {
namespace {

std::int64_t integer_param(const Request& request, const std::string& name, std::int64_t fallback,
                           std::int64_t min, std::int64_t max) {
  auto text = request.query_param(name);
  if (!text) return fallback;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || value < min || value > max)
    throw ApiError::bad_request("'" + name + "' must be an integer from " + std::to_string(min) +
                                " to " + std::to_string(max));
  return value;
}

std::string link(const std::string& path, const std::string& query, std::int64_t limit,
                 std::int64_t offset) {
  std::string out = path + "?limit=" + std::to_string(limit) + "&offset=" + std::to_string(offset);
  if (!query.empty()) out += "&" + query;
  return out;
}

}  // namespace

Page read_page(const Request& request) {
  Page page;
  page.limit = integer_param(request, "limit", 25, 1, kMaxPageLimit);
  page.offset = integer_param(request, "offset", 0, 0, INT32_MAX);
  return page;
}

boost::json::object list_envelope(boost::json::array list, const Page& page, std::int64_t total,
                                  const std::string& path, const std::string& query) {
  boost::json::object pagination{{"offset", page.offset}, {"limit", page.limit}, {"total", total}};
  pagination["next"] = page.offset + page.limit < total
                           ? link(path, query, page.limit, page.offset + page.limit)
                           : "";
  pagination["previous"] =
      page.offset > 0
          ? link(path, query, page.limit, std::max<std::int64_t>(0, page.offset - page.limit))
          : "";
  boost::json::object out;
  out["count"] = list.size();
  out["list"] = std::move(list);
  out["pagination"] = std::move(pagination);
  return out;
}

}  // namespace portico::http

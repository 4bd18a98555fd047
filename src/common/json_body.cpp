#include "common/json_body.h"

#include <boost/json/parse.hpp>

#include "common/api_error.h"

namespace portico::json_body {
namespace {

ApiError wrong_type(std::string_view field, std::string_view expected) {
  return ApiError::bad_request("'" + std::string(field) + "' must be " + std::string(expected));
}

const json::value* member(const json::object& o, std::string_view field) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

}  // namespace

json::object parse_object(std::string_view body) {
  json::parse_options options;
  options.max_depth = kMaxDepth;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, {}, options);
  if (ec) throw ApiError::bad_request("the body is not valid JSON: " + ec.message());
  if (!v.is_object()) throw ApiError::bad_request("the body must be a JSON object");
  return std::move(v.as_object());
}

std::optional<std::string> optional_string(const json::object& o, std::string_view field,
                                           std::size_t max_length) {
  auto* v = member(o, field);
  if (!v) return std::nullopt;
  if (!v->is_string()) throw wrong_type(field, "a string");
  if (v->as_string().size() > max_length)
    throw ApiError::bad_request("'" + std::string(field) + "' is longer than " +
                                std::to_string(max_length) + " characters");
  return std::string(v->as_string());
}

std::string required_string(const json::object& o, std::string_view field, std::size_t max_length) {
  auto value = optional_string(o, field, max_length);
  if (!value || value->empty())
    throw ApiError::bad_request("'" + std::string(field) + "' is required");
  return *value;
}

std::optional<std::int64_t> optional_int(const json::object& o, std::string_view field,
                                         std::int64_t min, std::int64_t max) {
  auto* v = member(o, field);
  if (!v) return std::nullopt;
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    n = static_cast<std::int64_t>(v->as_uint64());
  } else {
    throw wrong_type(field, "an integer");
  }
  if (n < min || n > max)
    throw ApiError::bad_request("'" + std::string(field) + "' must be from " + std::to_string(min) +
                                " to " + std::to_string(max));
  return n;
}

std::optional<bool> optional_bool(const json::object& o, std::string_view field) {
  auto* v = member(o, field);
  if (!v) return std::nullopt;
  if (!v->is_bool()) throw wrong_type(field, "true or false");
  return v->as_bool();
}

std::optional<std::vector<std::string>> optional_string_array(const json::object& o,
                                                              std::string_view field,
                                                              std::size_t max_items,
                                                              std::size_t max_length) {
  auto* v = member(o, field);
  if (!v) return std::nullopt;
  if (!v->is_array()) throw wrong_type(field, "an array of strings");
  auto& a = v->as_array();
  if (a.size() > max_items)
    throw ApiError::bad_request("'" + std::string(field) + "' has more than " +
                                std::to_string(max_items) + " items");
  std::vector<std::string> out;
  out.reserve(a.size());
  for (auto& item : a) {
    if (!item.is_string() || item.as_string().size() > max_length)
      throw wrong_type(
          field, "an array of strings of at most " + std::to_string(max_length) + " characters");
    out.emplace_back(item.as_string());
  }
  return out;
}

const json::object* optional_object(const json::object& o, std::string_view field) {
  auto* v = member(o, field);
  if (!v) return nullptr;
  if (!v->is_object()) throw wrong_type(field, "an object");
  return &v->as_object();
}

const json::array* optional_array(const json::object& o, std::string_view field) {
  auto* v = member(o, field);
  if (!v) return nullptr;
  if (!v->is_array()) throw wrong_type(field, "an array");
  return &v->as_array();
}

std::string one_of(std::string_view field, const std::string& value,
                   std::initializer_list<std::string_view> allowed) {
  std::string list;
  for (auto a : allowed) {
    if (a == value) return value;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  throw ApiError::bad_request("'" + std::string(field) + "' must be one of " + list);
}

}  // namespace portico::json_body

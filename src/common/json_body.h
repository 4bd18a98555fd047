#pragma once
// Reading JSON request bodies of the REST APIs: bounded parsing and typed field access that
// answers a wrong or missing field with ApiError 400 naming it. Read-only fields a client
// sends (id, provider, lifeCycleStatus, createdTime, ...) are simply never read.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::json_body {

namespace json = boost::json;

inline constexpr std::size_t kMaxDepth = 32;

// The body as a JSON object; ApiError 400 when it is not one (or nests deeper than 32).
json::object parse_object(std::string_view body);

// Field readers. `max_length` bounds strings; ApiError 400 names the field on a wrong type.
std::optional<std::string> optional_string(const json::object& o, std::string_view field,
                                           std::size_t max_length = 1024);
std::string required_string(const json::object& o, std::string_view field,
                            std::size_t max_length = 1024);
std::optional<std::int64_t> optional_int(const json::object& o, std::string_view field,
                                         std::int64_t min, std::int64_t max);
std::optional<bool> optional_bool(const json::object& o, std::string_view field);
std::optional<std::vector<std::string>> optional_string_array(const json::object& o,
                                                              std::string_view field,
                                                              std::size_t max_items = 100,
                                                              std::size_t max_length = 1024);
// An object or array member kept as it is (for sub-documents stored whole).
const json::object* optional_object(const json::object& o, std::string_view field);
const json::array* optional_array(const json::object& o, std::string_view field);

// One of `allowed`, or ApiError 400 listing them.
std::string one_of(std::string_view field, const std::string& value,
                   std::initializer_list<std::string_view> allowed);

}  // namespace portico::json_body

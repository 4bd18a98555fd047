#include "http/message.h"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>

namespace portico::http {

namespace {

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Field names are ASCII tokens; std::tolower would consult the locale for nothing.
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

// Decodes one name or value of a form (or query); '+' means space there.
std::optional<std::string> form_decode(std::string_view encoded) {
  auto validated = boost::urls::make_pct_string_view(encoded);
  if (!validated) return std::nullopt;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  return validated->decode(opts);
}

}  // namespace

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [field_name, value] : fields_) {
    if (iequals(field_name, name)) return std::string_view(value);
  }
  return std::nullopt;
}

void Headers::set(std::string name, std::string value) {
  remove(name);
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [&](const auto& field) { return iequals(field.first, name); });
}

std::optional<std::string> Request::query_param(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

Response Response::json(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.set("Content-Type", "application/json");
  response.body = std::move(body);
  return response;
}

Response Response::html(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.set("Content-Type", "text/html; charset=utf-8");
  response.body = std::move(body);
  return response;
}

Response Response::error(int status, long code, std::string_view message,
                         std::string_view description) {
  // boost::json::object keeps insertion order, so the body reads code, message, description
  // like the reference's.
  boost::json::object body;
  body["code"] = code;
  body["message"] = message;
  body["description"] = description;
  return json(status, boost::json::serialize(body));
}

std::optional<std::multimap<std::string, std::string>> parse_form(std::string_view body) {
  std::multimap<std::string, std::string> result;
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2": browsers produce these; they carry nothing
    auto eq = pair.find('=');
    auto name = form_decode(pair.substr(0, eq));
    auto value =
        form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    result.emplace(std::move(*name), std::move(*value));
  }
  return result;
}

std::string percent_encode(std::string_view text) {
  return boost::urls::encode(text, boost::urls::unreserved_chars);
}

}  // namespace portico::http

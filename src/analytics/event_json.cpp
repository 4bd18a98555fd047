#include "analytics/event_json.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>

#include "analytics/rollup.h"

namespace portico::analytics {

namespace json = boost::json;

namespace {

// User agents and the like come from clients: bounded, and valid UTF-8 so that the line is
// valid JSON for whatever reads the file.
constexpr std::size_t kMaxField = 1024;

// Reads exactly `digits` decimal digits at `pos`.
bool read_number(std::string_view text, std::size_t& pos, std::size_t digits, int& out) {
  if (pos + digits > text.size()) return false;
  int value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  pos += digits;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::string iso_time_ms(std::int64_t unix_ms) {
  std::int64_t seconds = unix_ms / 1000;
  std::int64_t millis = unix_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", date, static_cast<int>(millis));
  return out;
}

std::optional<std::int64_t> parse_time_ms(std::string_view text) {
  if (text.empty() || text.size() > 40) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t ms = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return ms;
  }
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!read_number(text, pos, 4, year) || !expect(text, pos, '-') ||
      !read_number(text, pos, 2, month) || !expect(text, pos, '-') ||
      !read_number(text, pos, 2, day))
    return std::nullopt;
  std::int64_t offset_seconds = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't') return std::nullopt;
    ++pos;
    if (!read_number(text, pos, 2, hour) || !expect(text, pos, ':') ||
        !read_number(text, pos, 2, minute))
      return std::nullopt;
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!read_number(text, pos, 2, second)) return std::nullopt;
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        // Milliseconds from the first three digits; further digits are read and ignored.
        std::size_t start = pos;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
        if (pos == start) return std::nullopt;
        std::string_view fraction = text.substr(start, std::min<std::size_t>(3, pos - start));
        for (std::size_t i = 0; i < 3; ++i)
          millis = millis * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
      }
    }
    if (pos >= text.size()) return std::nullopt;  // a time needs its zone
    char zone = text[pos++];
    if (zone == 'Z' || zone == 'z') {
      if (pos != text.size()) return std::nullopt;
    } else if (zone == '+' || zone == '-' || zone == ' ') {
      int oh = 0, om = 0;
      if (!read_number(text, pos, 2, oh)) return std::nullopt;
      if (pos < text.size() && text[pos] == ':') ++pos;
      if (!read_number(text, pos, 2, om) || pos != text.size()) return std::nullopt;
      if (oh > 23 || om > 59) return std::nullopt;
      offset_seconds = (zone == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    } else {
      return std::nullopt;
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t t = timegm(&tm);
  // timegm normalises 2026-02-31 into March: refuse dates that do not exist.
  if (tm.tm_mday != day || tm.tm_mon != month - 1) return std::nullopt;
  return (static_cast<std::int64_t>(t) - offset_seconds) * 1000 + millis;
}

std::string event_json_line(const Event& e, std::string_view node_id) {
  auto text = [](const std::string& s) { return clean_text(s, kMaxField); };
  const bool fault = !e.error_type.empty();
  json::object o;
  o.reserve(30);
  o["apiId"] = text(e.api_id);
  o["apiName"] = text(e.api_name);
  o["apiVersion"] = text(e.api_version);
  o["apiContext"] = text(e.api_context);
  o["apiMethod"] = text(e.api_method);
  o["apiResourceTemplate"] = text(e.api_resource_template);
  o["apiCreator"] = text(e.api_creator);
  o["applicationId"] = text(e.application_id);
  o["applicationName"] = text(e.application_name);
  o["applicationOwner"] = text(e.application_owner);
  o["keyType"] = text(e.key_type);
  o["userName"] = text(e.user_name);
  o["userIp"] = text(e.user_ip);
  o["userAgent"] = text(e.user_agent);
  o["correlationId"] = text(e.correlation_id);
  // As the reference's events: "response" when the call went through (a backend error
  // included), "fault" when the gateway failed or refused it.
  o["eventType"] = fault ? "fault" : "response";
  o["proxyResponseCode"] = e.proxy_response_code;
  // The reference writes -1 when the backend was not reached.
  o["targetResponseCode"] = e.target_response_code == 0 ? -1 : e.target_response_code;
  o["responseLatency"] = e.response_latency_ms;
  o["backendLatency"] = e.backend_latency_ms;
  o["requestMediationLatency"] = e.request_mediation_latency_ms;
  o["responseMediationLatency"] = e.response_mediation_latency_ms;
  if (fault) {
    o["errorType"] = text(e.error_type);
  } else {
    o["errorType"] = nullptr;
  }
  o["errorCode"] = e.error_code;
  o["requestTimestamp"] = iso_time_ms(e.request_timestamp_ms);
  o["requestSize"] = e.request_bytes;
  o["responseSize"] = e.response_bytes;
  if (!node_id.empty()) o["nodeId"] = clean_text(node_id, kMaxField);
  return json::serialize(o);
}

}  // namespace portico::analytics

#pragma once
// Helpers of the analytics tests: events, and a strict reader of the Prometheus text format.
// Test-only: included by *_test.cpp files.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "analytics/analytics.h"

// Tests name only the EventSpec fields they care about ({.status = 429}); GCC's
// -Wextra would warn about every field left to its default.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace portico::analytics::testing {

struct EventSpec {
  std::string api = "Pets";
  std::string app = "app-1";
  std::string owner = "sam";
  int status = 200;
  std::int64_t latency_ms = 10;
  std::int64_t timestamp_ms = 1'700'000'000'000;
  long error_code = 0;
  std::string method = "GET";
  std::string resource = "/pets";
  std::string error_type;
};

// An event of API `api` (id "id-<api>", version 1.0.0) from application `app`.
inline Event make_event(const EventSpec& s) {
  Event e;
  e.api_id = "id-" + s.api;
  e.api_name = s.api;
  e.api_version = "1.0.0";
  e.api_context = "/" + s.api + "/1.0.0";
  e.api_method = s.method;
  e.api_resource_template = s.resource;
  e.api_creator = "admin";
  e.application_id = s.app;
  e.application_name = "App " + s.app;
  e.application_owner = s.owner;
  e.key_type = "PRODUCTION";
  e.user_name = s.owner;
  e.user_ip = "127.0.0.1";
  e.user_agent = "test";
  e.correlation_id = "c-1";
  e.error_type = s.error_type;
  e.proxy_response_code = s.status;
  e.target_response_code = s.status;
  e.error_code = s.error_code;
  e.response_latency_ms = s.latency_ms;
  e.request_timestamp_ms = s.timestamp_ms;
  e.request_bytes = 100;
  e.response_bytes = 1000;
  return e;
}

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;  // family → counter, gauge, histogram...
  std::vector<Sample> samples;

  // The sum of the samples of `name` whose labels include `match`.
  double sum(const std::string& name, const std::map<std::string, std::string>& match = {}) const {
    double total = 0;
    for (const Sample& s : samples) {
      if (s.name != name) continue;
      bool ok = true;
      for (const auto& [k, v] : match) {
        auto it = s.labels.find(k);
        if (it == s.labels.end() || it->second != v) ok = false;
      }
      if (ok) total += s.value;
    }
    return total;
  }
};

// Parses the text exposition format 0.0.4 strictly: every sample's family has a TYPE line
// before it, label values use only the three escapes, values are numbers or +Inf/-Inf/NaN.
// nullopt on any deviation (`error` says where).
inline std::optional<Exposition> parse_exposition(const std::string& text, std::string& error) {
  Exposition out;
  std::istringstream in(text);
  std::string line;
  auto is_name_char = [](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
  };
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
          type != "untyped") {
        error = "bad TYPE: " + line;
        return std::nullopt;
      }
      out.types[name] = type;
      continue;
    }
    if (line[0] == '#') continue;
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && is_name_char(line[i], i == 0)) ++i;
    if (i == 0) {
      error = "no metric name: " + line;
      return std::nullopt;
    }
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t start = i;
        while (i < line.size() && is_name_char(line[i], i == start)) ++i;
        std::string label = line.substr(start, i - start);
        if (label.empty() || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
          error = "bad label: " + line;
          return std::nullopt;
        }
        i += 2;
        std::string value;
        for (;;) {
          if (i >= line.size()) {
            error = "unterminated label value: " + line;
            return std::nullopt;
          }
          char c = line[i++];
          if (c == '"') break;
          if (c == '\\') {
            if (i >= line.size()) {
              error = "dangling escape: " + line;
              return std::nullopt;
            }
            char e = line[i++];
            if (e == '\\') {
              value += '\\';
            } else if (e == '"') {
              value += '"';
            } else if (e == 'n') {
              value += '\n';
            } else {
              error = "unknown escape: " + line;
              return std::nullopt;
            }
          } else {
            value += c;
          }
        }
        s.labels[label] = value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) {
        error = "unterminated labels: " + line;
        return std::nullopt;
      }
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') {
      error = "no value: " + line;
      return std::nullopt;
    }
    std::string value = line.substr(i + 1);
    if (value == "+Inf") {
      s.value = 1e308;
    } else {
      char* end = nullptr;
      s.value = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0') {
        error = "bad value: " + line;
        return std::nullopt;
      }
    }
    std::string family = s.name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string sfx(suffix);
      if (family.size() > sfx.size() && family.ends_with(sfx)) {
        std::string base = family.substr(0, family.size() - sfx.size());
        if (out.types.count(base) && out.types[base] == "histogram") family = base;
      }
    }
    if (!out.types.count(family)) {
      error = "sample before its TYPE: " + line;
      return std::nullopt;
    }
    out.samples.push_back(std::move(s));
  }
  return out;
}

}  // namespace portico::analytics::testing

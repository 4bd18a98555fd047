#include "analytics/metrics.h"

#include <algorithm>
#include <charconv>

#include "analytics/rollup.h"

namespace portico::analytics {
namespace {

// Label values come from API definitions and the gateway; bounded so that one odd name cannot
// bloat every scrape.
constexpr std::size_t kMaxLabelBytes = 128;

std::string format_double(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc()) return "0";
  return std::string(buffer, end);
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, std::string_view labels,
            std::string_view value) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(value).append("\n");
}

std::string label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + escape_label_value(value) + "\"";
}

std::string api_label(const Event& e) {
  return clean_text(e.api_name, kMaxLabelBytes);
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Metrics::label_samples(std::string_view exposition) const {
  std::string out;
  out.reserve(exposition.size() + 64);
  while (!exposition.empty()) {
    auto end = exposition.find('\n');
    std::string_view line = exposition.substr(0, end);
    exposition.remove_prefix(end == std::string_view::npos ? exposition.size() : end + 1);
    auto name_end = line.find_first_of("{ ");
    if (line.empty() || line.front() == '#' || node_label_.empty() ||
        name_end == std::string_view::npos) {
      out.append(line);
    } else if (line[name_end] == '{') {
      out.append(line.substr(0, name_end + 1)).append(node_label_).append(",");
      out.append(line.substr(name_end + 1));
    } else {
      out.append(line.substr(0, name_end)).append("{").append(node_label_).append("}");
      out.append(line.substr(name_end));
    }
    out.append("\n");
  }
  return out;
}

void Metrics::set_node_id(std::string_view node_id) {
  node_label_ = label("node_id", clean_text(node_id, kMaxLabelBytes));
}

void Metrics::observe(const Event& e) {
  std::string status = status_class(e.proxy_response_code);
  if (previous_requests_ == nullptr || e.api_name != previous_api_name_ ||
      e.api_version != previous_api_version_ || status != previous_status_) {
    std::string api = api_label(e);
    previous_requests_ = &requests_[{api, clean_text(e.api_version, kMaxLabelBytes), status}];
    previous_duration_ = &durations_[api];
    previous_api_name_ = e.api_name;
    previous_api_version_ = e.api_version;
    previous_status_ = std::move(status);
  }
  ++*previous_requests_;

  Duration& d = *previous_duration_;
  const double seconds =
      static_cast<double>(std::max<std::int64_t>(0, e.response_latency_ms)) / 1000.0;
  auto bucket =
      std::lower_bound(kDurationBoundsSeconds.begin(), kDurationBoundsSeconds.end(), seconds);
  if (bucket != kDurationBoundsSeconds.end())
    ++d.buckets[static_cast<std::size_t>(bucket - kDurationBoundsSeconds.begin())];
  ++d.count;
  d.sum_seconds += seconds;

  if (is_throttled_code(e.error_code)) ++throttled_[{api_label(e), e.error_code}];
  if (is_auth_failure_code(e.error_code)) ++auth_failures_[{api_label(e), e.error_code}];
  if (is_upstream_error_code(e.error_code) || e.error_type == "TARGET_CONNECTIVITY") {
    // A connectivity failure the gateway did not code is labelled with the status it answered.
    long code = e.error_code != 0 ? e.error_code : e.proxy_response_code;
    ++upstream_errors_[{api_label(e), code}];
  }
}

std::string Metrics::text(const RecorderGauges& g) const {
  std::string out;
  out.reserve(4096);
  auto emit = [&](std::string_view name, const std::string& labels, std::string_view value) {
    if (node_label_.empty()) return sample(out, name, labels, value);
    sample(out, name, labels.empty() ? node_label_ : node_label_ + "," + labels, value);
  };

  header(out, "portico_requests_total", "counter", "API calls by API, version and status class.");
  for (const auto& [key, n] : requests_) {
    const auto& [api, version, status] = key;
    emit("portico_requests_total",
         label("api", api) + "," + label("version", version) + "," + label("status_class", status),
         std::to_string(n));
  }

  header(out, "portico_request_duration_seconds", "histogram",
         "Time from the request's arrival to the end of the response, by API.");
  for (const auto& [api, d] : durations_) {
    const std::string api_part = label("api", api) + ",";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kDurationBoundsSeconds.size(); ++i) {
      cumulative += d.buckets[i];
      emit("portico_request_duration_seconds_bucket",
           api_part + label("le", format_double(kDurationBoundsSeconds[i])),
           std::to_string(cumulative));
    }
    emit("portico_request_duration_seconds_bucket", api_part + label("le", "+Inf"),
         std::to_string(d.count));
    emit("portico_request_duration_seconds_sum", label("api", api), format_double(d.sum_seconds));
    emit("portico_request_duration_seconds_count", label("api", api), std::to_string(d.count));
  }

  auto by_code = [&](std::string_view name, std::string_view help,
                     const std::map<ApiCode, std::uint64_t>& counts) {
    header(out, name, "counter", help);
    for (const auto& [key, n] : counts)
      emit(name, label("api", key.first) + "," + label("code", std::to_string(key.second)),
           std::to_string(n));
  };
  by_code("portico_throttled_total", "Calls throttled out, by API and error code (900800-900807).",
          throttled_);
  by_code("portico_auth_failures_total",
          "Calls refused by authentication or authorization, by API and error code "
          "(900900-900910).",
          auth_failures_);
  by_code("portico_upstream_errors_total",
          "Calls whose backend failed (101500-101599 or TARGET_CONNECTIVITY), by API and code.",
          upstream_errors_);

  auto single = [&](std::string_view name, std::string_view type, std::string_view help,
                    std::uint64_t value) {
    header(out, name, type, help);
    emit(name, "", std::to_string(value));
  };
  single("portico_analytics_dropped_total", "counter",
         "Analytics events dropped because an I/O thread's queue was full.", g.dropped);
  single("portico_analytics_queue_capacity", "gauge",
         "Analytics events each I/O thread's queue holds.", g.queue_capacity);
  single("portico_analytics_events_total", "counter", "Analytics events drained from the queues.",
         g.events);
  single("portico_analytics_write_failures_total", "counter",
         "Rollup writes to the database or sends to the control plane that failed (their "
         "rollups were spilled to disk).",
         g.write_failures);
  single("portico_analytics_spill_files", "gauge",
         "Spill files waiting to be replayed into the database or sent to the control plane.",
         g.spill_files);
  single("portico_analytics_spill_dropped_batches_total", "counter",
         "Spilled batches removed, oldest first, to keep the spill directory within its bound.",
         g.spill_dropped);
  single("portico_analytics_refused_batches_total", "counter",
         "Batches the control plane refused as invalid (their rollups were dropped).",
         g.refused_batches);
  single("portico_snapshot_version", "gauge", "Version of the gateway's runtime snapshot.",
         g.snapshot_version);
  return out;
}

}  // namespace portico::analytics

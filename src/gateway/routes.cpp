#include "gateway/routes.h"

#include <array>

namespace portico::gateway {
namespace {

constexpr std::size_t kMaxContextSegments = 8;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Splits off the next segment of a path that starts after a '/'.
std::string_view next_segment(std::string_view& rest) {
  auto slash = rest.find('/');
  std::string_view segment = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  return segment;
}

// One template segment against one path segment: "{id}" takes any non-empty segment, and a
// literal prefix or suffix around the parameter ("{id}.json") must match too.
bool segment_matches(std::string_view pattern, std::string_view segment) {
  auto open = pattern.find('{');
  if (open == std::string_view::npos) return pattern == segment;
  auto close = pattern.find('}', open);
  if (close == std::string_view::npos) return pattern == segment;
  std::string_view prefix = pattern.substr(0, open);
  std::string_view suffix = pattern.substr(close + 1);
  return segment.size() > prefix.size() + suffix.size() && segment.starts_with(prefix) &&
         segment.ends_with(suffix);
}

// How specific a matching template is: literal segments beat parameters beat a wildcard.
struct Specificity {
  int literals = 0;
  int params = 0;
  bool wildcard = false;
  bool operator>(const Specificity& o) const {
    if (literals != o.literals) return literals > o.literals;
    if (params != o.params) return params > o.params;
    return !wildcard && o.wildcard;
  }
};

std::optional<Specificity> match_template(std::string_view uri_template,
                                          std::string_view resource_path) {
  // A query part in the template ("/pets?status={s}") does not take part in path matching,
  // and a trailing slash distinguishes no resource.
  uri_template = uri_template.substr(0, uri_template.find('?'));
  if (uri_template.empty() || uri_template.front() != '/' || resource_path.empty())
    return std::nullopt;
  auto strip = [](std::string_view s) {
    s.remove_prefix(1);
    if (!s.empty() && s.back() == '/') s.remove_suffix(1);
    return s;
  };
  std::string_view pattern = strip(uri_template);
  std::string_view path = strip(resource_path);
  Specificity score;
  while (true) {
    // "/*" matches everything; "/pets/*" matches "/pets" and everything below it.
    if (pattern == "*") {
      score.wildcard = true;
      return score;
    }
    if (pattern.empty() || path.empty()) {
      return pattern.empty() && path.empty() ? std::optional(score) : std::nullopt;
    }
    std::string_view p = next_segment(pattern);
    std::string_view s = next_segment(path);
    if (!segment_matches(p, s)) return std::nullopt;
    if (p.find('{') == std::string_view::npos)
      ++score.literals;
    else
      ++score.params;
  }
}

}  // namespace

bool normalize_path(std::string_view raw, std::string& out) {
  out.clear();
  if (raw.empty() || raw.front() != '/') return false;
  // Decode what may be decoded, refusing what would change the path's structure. Most paths
  // have nothing to decode (no escape, no '\\', no NUL) and are read in place.
  std::string decoded_storage;
  std::string_view decoded = raw;
  if (raw.find_first_of(std::string_view("%\\\0", 3)) != std::string_view::npos) {
    decoded_storage.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == '\\' || c == '\0') return false;
      if (c != '%') {
        decoded_storage.push_back(c);
        continue;
      }
      if (i + 2 >= raw.size()) return false;
      int hi = hex_value(raw[i + 1]);
      int lo = hex_value(raw[i + 2]);
      if (hi < 0 || lo < 0) return false;
      auto byte = static_cast<unsigned char>(hi * 16 + lo);
      if (byte == '/' || byte == '\\' || byte == 0) return false;
      if (is_unreserved(byte)) {
        decoded_storage.push_back(static_cast<char>(byte));
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        decoded_storage.push_back('%');
        decoded_storage.push_back(kHex[byte >> 4]);
        decoded_storage.push_back(kHex[byte & 15]);
      }
      i += 2;
    }
    decoded = decoded_storage;
  }
  // Resolve dot segments (RFC 3986 §5.2.4) and drop empty ones ("//" → "/"). A path that
  // ends in '/', "." or ".." keeps one trailing slash: backends may tell "/a/" from "/a".
  out.reserve(decoded.size());
  std::string_view rest = decoded.substr(1);
  bool ends_with_slash = false;
  while (true) {
    bool last = rest.find('/') == std::string_view::npos;
    std::string_view segment = next_segment(rest);
    if (segment == "..") {
      if (out.empty()) return false;  // above the root
      out.resize(out.rfind('/'));
      ends_with_slash = true;
    } else if (segment == "." || segment.empty()) {
      ends_with_slash = true;
    } else {
      out.push_back('/');
      out.append(segment);
      ends_with_slash = false;
    }
    if (last) break;
  }
  if (out.empty() || ends_with_slash) out.push_back('/');
  return true;
}

std::optional<std::string> normalize_path(std::string_view raw) {
  std::string out;
  if (!normalize_path(raw, out)) return std::nullopt;
  return out;
}

bool template_matches(std::string_view uri_template, std::string_view resource_path) {
  return match_template(uri_template, resource_path).has_value();
}

RouteMatch match_route(const Snapshot& snapshot, std::string_view method, std::string_view path) {
  RouteMatch result;
  // The longest prefix at a segment boundary that names an API: "/a/b/1.0/x" tries
  // "/a/b/1.0/x", "/a/b/1.0", "/a/b", "/a".
  std::array<std::size_t, kMaxContextSegments> ends{};
  std::size_t count = 0;
  for (std::size_t i = 1; i <= path.size() && count < kMaxContextSegments; ++i) {
    if (i == path.size() || path[i] == '/') ends[count++] = i;
  }
  const Api* api = nullptr;
  std::size_t prefix_end = 0;
  for (std::size_t k = count; k-- > 0;) {
    if (const auto* found = snapshot.by_context.find(path.substr(0, ends[k]))) {
      api = found->get();
      prefix_end = ends[k];
      break;
    }
  }
  if (api == nullptr) return result;
  result.api = api;
  result.resource_path = prefix_end < path.size() ? path.substr(prefix_end) : "/";

  auto best_for = [&](std::string_view verb) {
    const Resource* best = nullptr;
    Specificity best_score;
    for (const auto& r : api->resources) {
      if (r.verb != verb) continue;
      auto score = match_template(r.uri_template, result.resource_path);
      if (score && (best == nullptr || *score > best_score)) {
        best = &r;
        best_score = *score;
      }
    }
    return best;
  };

  const Resource* resource = best_for(method);
  if (resource == nullptr && method == "HEAD") resource = best_for("GET");
  if (resource != nullptr) {
    result.status = RouteMatch::Status::kMatched;
    result.resource = resource;
    return result;
  }
  if (method == "OPTIONS") {
    // The reference answers OPTIONS itself when the API defines none for the path.
    std::string allowed;
    for (const auto& r : api->resources) {
      if (!template_matches(r.uri_template, result.resource_path)) continue;
      if (allowed.find(r.verb) != std::string::npos) continue;
      if (!allowed.empty()) allowed += ", ";
      allowed += r.verb;
    }
    if (!allowed.empty()) {
      result.status = RouteMatch::Status::kOptions;
      result.allowed_methods = allowed + ", OPTIONS";
      return result;
    }
  }
  result.status = RouteMatch::Status::kNoResource;
  return result;
}

}  // namespace portico::gateway

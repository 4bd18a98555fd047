#include "store/postgres_url.h"

#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::store {
namespace {

constexpr std::string_view kSchemes[] = {"postgresql://", "postgres://"};
constexpr std::string_view kDefaultConnectTimeout = "10";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) {
      throw std::invalid_argument("PostgreSQL URL: truncated percent-escape");
    }
    int high = hex_value(text[i + 1]);
    int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) {
      throw std::invalid_argument("PostgreSQL URL: bad percent-escape");
    }
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

// libpq's quoting: single quotes around the value, backslash before ' and \.
std::string quote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

bool valid_keyword(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool is_postgres_url(const std::string& url) {
  for (std::string_view scheme : kSchemes) {
    if (url.starts_with(scheme)) return true;
  }
  return false;
}

std::string postgres_conninfo(const std::string& url) {
  std::string_view rest(url);
  bool matched = false;
  for (std::string_view scheme : kSchemes) {
    if (rest.starts_with(scheme)) {
      rest.remove_prefix(scheme.size());
      matched = true;
      break;
    }
  }
  if (!matched) {
    throw std::invalid_argument("not a PostgreSQL URL (postgresql://...)");
  }

  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string_view userinfo;
  // The last '@': a password may hold an unescaped '@', a host never does.
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  std::string_view host = rest;
  std::string_view port;
  if (host.starts_with('[')) {
    auto close = host.find(']');
    if (close == std::string_view::npos) {
      throw std::invalid_argument("PostgreSQL URL: unclosed '[' in the host");
    }
    std::string_view after = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (after.starts_with(':')) {
      port = after.substr(1);
    } else if (!after.empty()) {
      throw std::invalid_argument("PostgreSQL URL: junk after the IPv6 host");
    }
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  for (char c : port) {
    if (c < '0' || c > '9') {
      throw std::invalid_argument("PostgreSQL URL: the port is not a number");
    }
  }

  std::vector<std::pair<std::string, std::string>> params;
  auto add = [&](std::string key, std::string value) {
    for (auto& [k, v] : params) {
      if (k == key) {
        v = std::move(value);  // the last one wins, as in libpq
        return;
      }
    }
    params.emplace_back(std::move(key), std::move(value));
  };
  if (!host.empty()) add("host", percent_decode(host));
  if (!port.empty()) add("port", std::string(port));
  if (!path.empty()) add("dbname", percent_decode(path));
  if (!userinfo.empty()) {
    auto colon = userinfo.find(':');
    add("user", percent_decode(userinfo.substr(0, colon)));
    if (colon != std::string_view::npos) {
      add("password", percent_decode(userinfo.substr(colon + 1)));
    }
  }
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      throw std::invalid_argument("PostgreSQL URL: query parameter without '='");
    }
    std::string key = percent_decode(pair.substr(0, eq));
    if (!valid_keyword(key)) {
      throw std::invalid_argument("PostgreSQL URL: bad parameter name '" + key + "'");
    }
    add(std::move(key), percent_decode(pair.substr(eq + 1)));
  }
  bool has_timeout = false;
  for (const auto& [k, v] : params) has_timeout = has_timeout || k == "connect_timeout";
  if (!has_timeout) add("connect_timeout", std::string(kDefaultConnectTimeout));

  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += ' ';
    out += k;
    out += '=';
    out += quote(v);
  }
  return out;
}

}  // namespace portico::store

// libFuzzer harness for the gateway's client side: everything a request's bytes go through
// before a filter decides anything, in the order src/gateway/proxy_session.cpp runs it.
//
//   RequestHeadScanner (one shot, and again byte by byte: the answers must agree)
//   → ClientRequest, the session's view of the head (checked against Beast's parser reading
//     the same head: every head the scanner takes, Beast takes, and they agree on it)
//   → the body through Beast's parser after the framing head (chunked decoding), then the
//     next pipelined request
//   → the request-target split as ProxySession::resolve_target does → normalize_path
//   → match_route against a fixed Snapshot
//   → Authorization (Bearer, Basic) and apikey credentials → jwt::decode, validate_jwt
//
// Every check below is an invariant of that path; a broken one aborts, which libFuzzer and
// the replay test (fuzz/replay_main.cpp) report as a crash. Run it with fuzz/run.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/crypto.h"
#include "common/jwt.h"
#include "gateway/client_request.h"
#include "gateway/jwt_validator.h"
#include "gateway/routes.h"
#include "gateway/snapshot.h"
#include "http/request_head.h"

namespace {

namespace bhttp = boost::beast::http;
namespace gw = portico::gateway;
namespace jwt = portico::jwt;
using portico::http::detail::HeadLimits;
using portico::http::detail::RequestHeadScanner;
using Status = RequestHeadScanner::Status;

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

// The server's defaults scaled down (8 KiB / 64 KiB / 100 fields / 10 MiB in
// src/http/server.h), so that the 414, 431 and 413 paths are reachable with inputs of the
// size libFuzzer mutates well.
HeadLimits fuzz_limits() {
  HeadLimits limits;
  limits.max_request_line_bytes = 1024;
  limits.max_header_bytes = 4096;
  limits.max_header_count = 32;
  limits.max_body_bytes = 64 * 1024;
  return limits;
}

// A connection's buffer rarely holds more than a few pipelined requests.
constexpr int kMaxRequestsPerInput = 4;
// The time validate_jwt is asked about: the seed tokens are valid then (exp 2100-01-01).
constexpr std::int64_t kNow = 1'700'000'000;

// A fixed P-256 key, so that the seed corpus can carry tokens that verify (fuzz/make_seeds.py
// signs them with the same PEM). Test material only.
constexpr std::string_view kEs256Pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1S8eGawcSmkRhVuu\n"
    "3TT9drJL6Y0mCL8TKTFZNOFCc8mhRANCAATjA+yVGGrf1pTdSjFgLcYEAUw9GKCc\n"
    "/TpDxzU+ulWpoe2P7w+oYWj8LeQAHL+JGj1OcahzHwbUHtP3OY+VygI6\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kEs256Kid = "fuzz-es256";
// The public half of an RSA-2048 key whose private half was thrown away: RS256 tokens reach
// the RSA verification with whatever signature they carry, and never verify.
constexpr std::string_view kRs256Jwk =
    R"({"kty":"RSA","kid":"fuzz-rs256","use":"sig","alg":"RS256","e":"AQAB","n":")"
    "qhIEjeOkD94-YRjMfQhS9pmdycATAxRnxJTxQlJraXA6r8CYIV7R98jfY2hafEaC4hmg-7IA9YdSZOrEN-1Q-lbXZl"
    "PhjBcMmBgg8o8aIkx1WnMLArPMt6Gmjj8X15HWSzzAA8HDjNEIX87a0ETlsPKRlUFpnn_0yvU3rOPmMTQssnwafkBnjQ"
    "Bc1pke8yDkIPYwXZRbbtTHEsgtl9jyvTHVZ7iHXsXpCmLTLhJ0wPocHTMc5KIDhJbKiUgGo4E5dTPlM0braQngWYhnmZ"
    "cTVG3VskOKta1lPeC49tWUc12l3tPgLHChA0U0zPQ9BDI4Mj9ElVGDfxYla-1_Vib6kQ"
    R"("})";

gw::Resource resource(std::string verb, std::string uri_template) {
  gw::Resource r;
  r.verb = std::move(verb);
  r.uri_template = std::move(uri_template);
  return r;
}

// As snapshot_builder.cpp compiles an API's context: "{version}" may sit inside it.
std::shared_ptr<gw::Api> api(std::string id, std::string context, std::string version,
                             bool default_version, std::vector<gw::Resource> resources) {
  auto a = std::make_shared<gw::Api>();
  a->id = std::move(id);
  a->name = a->id;
  a->version = std::move(version);
  constexpr std::string_view kVersionVar = "{version}";
  if (auto at = context.find(kVersionVar); at != std::string::npos) {
    a->context_version = context;
    a->context_version.replace(at, kVersionVar.size(), a->version);
    a->context = context;
    a->context.erase(at, kVersionVar.size());
    if (auto twice = a->context.find("//"); twice != std::string::npos) a->context.erase(twice, 1);
    while (a->context.size() > 1 && a->context.back() == '/') a->context.pop_back();
  } else {
    a->context = context;
    a->context_version = context + "/" + a->version;
  }
  a->default_version = default_version;
  a->lifecycle = "PUBLISHED";
  a->resources = std::move(resources);
  a->api_key = true;
  return a;
}

struct World {
  gw::Snapshot snapshot;
  gw::KeySet keys;
  jwt::SigningKey signer;
  gw::JwtRules rules;
};

World make_world() {
  std::vector<std::shared_ptr<gw::Api>> apis = {
      api("pets", "/pets", "1.0.0", true,
          {resource("GET", "/pets"), resource("POST", "/pets"), resource("GET", "/pets/{petId}"),
           resource("DELETE", "/pets/{petId}"),
           resource("GET", "/pets/{petId}/photos/{photoId}.json"),
           resource("GET", "/pets/findByStatus?status={status}"), resource("HEAD", "/pets/head")}),
      api("shop", "/shop/{version}/orders", "v2", true,
          {resource("GET", "/*"), resource("POST", "/items/{id}"), resource("PUT", "/items/{id}/*"),
           resource("OPTIONS", "/items")}),
      api("deep", "/a/b/c/d", "2.1", false,
          {resource("GET", "/"), resource("GET", "/x/{y}/z"), resource("PATCH", "/files/*"),
           resource("GET", "/{a}-{b}"), resource("GET", "/v{n}.{ext}"), resource("DELETE", "/x/")}),
      api("wild", "/wild", "1", false, {resource("GET", "/*"), resource("POST", "/*")}),
      // Shares its first segment with "pets": the longest context must win.
      api("petshop", "/pets/shop", "1.0.0", false, {resource("GET", "/{item}")}),
  };
  World w{
      {},
      gw::KeySet{},
      jwt::SigningKey::from_private_pem(kEs256Pem, jwt::Algorithm::ES256, std::string(kEs256Kid)),
      {}};
  for (const auto& a : apis) {
    w.snapshot.apis.insert_or_assign(a->id, a);
    w.snapshot.by_context.try_emplace(a->context_version, a);
    if (a->default_version) w.snapshot.by_context.try_emplace(a->context, a);
  }
  std::string jwks =
      R"({"keys":[)" + w.signer.public_jwk_json() + "," + std::string(kRs256Jwk) + "]}";
  std::size_t skipped = 0;
  auto keys = gw::KeySet::parse(jwks, &skipped);
  FUZZ_CHECK(keys && keys->size() == 2 && skipped == 0);
  w.keys = std::move(*keys);
  w.rules.leeway_seconds = 60;
  return w;
}

const World& world() {
  static const World w = make_world();
  return w;
}

// GATEWAY_FUZZ_VERBOSE=1 prints what each step decided (to see what a corpus file reaches).
bool verbose() {
  static const bool on = std::getenv("GATEWAY_FUZZ_VERBOSE") != nullptr;
  return on;
}

#define FUZZ_LOG(...)                                 \
  do {                                                \
    if (verbose()) std::fprintf(stderr, __VA_ARGS__); \
  } while (0)

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The head scanned twice: in one piece, and a byte at a time as a slow client sends it.
// Both must reach the same verdict at the same place.
Status scan_head(RequestHeadScanner& scanner, std::string_view input) {
  Status whole = scanner.scan(input);
  if (whole == Status::kError)
    FUZZ_LOG("  head: %d %s\n", scanner.error().status, scanner.error().description.c_str());
  else
    FUZZ_LOG("  head: %s\n", whole == Status::kComplete ? "complete" : "incomplete");
  RequestHeadScanner slow(fuzz_limits());
  Status piecewise = Status::kNeedMore;
  for (std::size_t n = 1; n <= input.size() && piecewise == Status::kNeedMore; ++n)
    piecewise = slow.scan(input.substr(0, n));
  FUZZ_CHECK(whole == piecewise);
  if (whole == Status::kError) {
    FUZZ_CHECK(scanner.error().status == slow.error().status);
    FUZZ_CHECK(scanner.error().description == slow.error().description);
    int s = scanner.error().status;
    FUZZ_CHECK(s == 400 || s == 413 || s == 414 || s == 417 || s == 431 || s == 505);
  } else if (whole == Status::kComplete) {
    const auto& a = scanner.info();
    const auto& b = slow.info();
    FUZZ_CHECK(scanner.head_size() == slow.head_size());
    FUZZ_CHECK(scanner.head_size() <= input.size());
    FUZZ_CHECK(a.request_line_offset < scanner.head_size());
    FUZZ_CHECK(a.version_minor == b.version_minor && a.content_length == b.content_length &&
               a.chunked == b.chunked && a.expect_continue == b.expect_continue &&
               a.request_line_offset == b.request_line_offset);
    FUZZ_CHECK(!(a.chunked && a.content_length));
    FUZZ_CHECK(input.substr(0, scanner.head_size()).ends_with("\r\n\r\n"));
  }
  return whole;
}

// What the session does with the request-target (ProxySession::resolve_target): origin-form
// is split at '?'; absolute-form is taken only when it names the request's own Host.
std::optional<std::string_view> target_path(std::string_view target, std::string_view host,
                                            std::string_view& query) {
  if (!target.empty() && target.front() == '/') {
    auto question = target.find('?');
    if (question != std::string_view::npos) query = target.substr(question + 1);
    return target.substr(0, question);
  }
  auto url = boost::urls::parse_absolute_uri(target);
  if (!url || !url->has_authority() || !iequals(url->encoded_authority(), host))
    return std::nullopt;
  query = url->encoded_query();
  std::string_view path = url->encoded_path();
  return path.empty() ? std::string_view("/") : path;
}

void check_normalized(const std::string& path) {
  FUZZ_CHECK(!path.empty() && path.front() == '/');
  FUZZ_CHECK(path.find("//") == std::string::npos);
  FUZZ_CHECK(path.find("/./") == std::string::npos && path.find("/../") == std::string::npos);
  FUZZ_CHECK(!path.ends_with("/.") && !path.ends_with("/.."));
  FUZZ_CHECK(path.find('\\') == std::string::npos && path.find('\0') == std::string::npos);
  for (std::size_t i = 0; i + 2 < path.size(); ++i) {
    if (path[i] != '%') continue;
    std::string_view escape(path.data() + i, 3);
    FUZZ_CHECK(!iequals(escape, "%2f") && !iequals(escape, "%5c") && escape != "%00");
  }
  // Normalising twice changes nothing: a backend that normalises again sees the same path.
  auto again = gw::normalize_path(path);
  FUZZ_CHECK(again && *again == path);
}

void check_route(std::string_view method, const std::string& path) {
  const gw::Snapshot& snapshot = world().snapshot;
  gw::RouteMatch m = gw::match_route(snapshot, method, path);
  FUZZ_LOG("  route %.*s %s: %d %s %.*s\n", int(method.size()), method.data(), path.c_str(),
           int(m.status), m.api ? m.api->id.c_str() : "-",
           m.resource ? int(m.resource->uri_template.size()) : 1,
           m.resource ? m.resource->uri_template.data() : "-");
  using S = gw::RouteMatch::Status;
  if (m.status == S::kNoApi) {
    FUZZ_CHECK(m.api == nullptr && m.resource == nullptr);
    return;
  }
  FUZZ_CHECK(m.api != nullptr);
  // The API's context (or context + version) is a whole-segment prefix of the path, and the
  // resource path is the rest of it.
  FUZZ_CHECK(!m.resource_path.empty() && m.resource_path.front() == '/');
  auto names_api = [&](std::string_view prefix) {
    return prefix == m.api->context_version || (m.api->default_version && prefix == m.api->context);
  };
  std::string_view p(path);
  bool whole_path = m.resource_path == "/" && names_api(p);
  bool split = p.size() > m.resource_path.size() && p.ends_with(m.resource_path) &&
               names_api(p.substr(0, p.size() - m.resource_path.size()));
  FUZZ_CHECK(whole_path || split);
  if (m.status == S::kMatched) {
    FUZZ_CHECK(m.resource != nullptr);
    FUZZ_CHECK(m.resource->verb == method || (method == "HEAD" && m.resource->verb == "GET"));
    FUZZ_CHECK(gw::template_matches(m.resource->uri_template, m.resource_path));
  } else if (m.status == S::kOptions) {
    FUZZ_CHECK(method == "OPTIONS" && m.allowed_methods.ends_with("OPTIONS"));
  }
}

void check_verdict(const gw::JwtVerdict& v) {
  FUZZ_LOG("  jwt: %s\n", v.outcome == gw::JwtVerdict::Outcome::kOk ? "ok"
                          : v.outcome == gw::JwtVerdict::Outcome::kUnknownKid
                              ? "unknown kid"
                              : std::string(v.detail).c_str());
  if (v.outcome == gw::JwtVerdict::Outcome::kOk) {
    FUZZ_CHECK(v.principal != nullptr && !v.principal->jti.empty());
    FUZZ_CHECK(v.cache_until > kNow);
  } else {
    FUZZ_CHECK(v.principal == nullptr && !v.detail.empty());
  }
}

// A JWT presented as a bearer token or an API key, as the Authenticator validates it. Also
// re-signed with the harness's own key, so that the claims checks behind the signature see
// whatever header and payload the fuzzer made up.
void check_token(std::string_view token) {
  const World& w = world();
  auto decoded = jwt::decode(token);
  if (decoded) FUZZ_CHECK(gw::looks_like_jwt(token));
  for (auto use : {gw::JwtUse::kAccessToken, gw::JwtUse::kApiKey})
    check_verdict(gw::validate_jwt(token, use, w.keys, w.rules, kNow));
  if (!decoded || decoded->kid != kEs256Kid) return;
  std::string resigned = decoded->signing_input;
  resigned += '.';
  resigned += portico::crypto::base64url_encode(w.signer.sign(decoded->signing_input));
  for (auto use : {gw::JwtUse::kAccessToken, gw::JwtUse::kApiKey})
    check_verdict(gw::validate_jwt(resigned, use, w.keys, w.rules, kNow));
}

// The credentials filter_auth.cpp looks for: "<scheme> <value>" in Authorization, the apikey
// header, the apikey query parameter.
void check_credentials(const gw::ClientRequest& request, std::string_view query) {
  if (auto authorization = request.find("Authorization")) {
    std::string_view v = *authorization;
    auto space = v.find(' ');
    std::string_view scheme = v.substr(0, space);
    std::string_view rest =
        space == std::string_view::npos ? std::string_view{} : trim(v.substr(space + 1));
    if (!rest.empty() && iequals(scheme, "Bearer")) {
      check_token(rest);
    } else if (!rest.empty() && iequals(scheme, "Basic")) {
      // The Authenticator splits user:password out of it.
      if (auto decoded = portico::crypto::base64_decode(rest)) (void)decoded->find(':');
    }
  }
  if (auto key = request.find("apikey"); key && !key->empty()) check_token(*key);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.starts_with("apikey=") && pair.size() > 7) check_token(pair.substr(7));
  }
}

// Beast's parser reads the same head: it must take every head the scanner took (the session
// no longer asks it), and see the same request in it.
void check_against_beast(const gw::ClientRequest& request, std::string_view input,
                         const RequestHeadScanner& scanner) {
  const auto& info = scanner.info();
  bhttp::request_parser<bhttp::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(scanner.head_size() + 1));
  parser.body_limit(UINT64_MAX);
  std::string_view head =
      input.substr(info.request_line_offset, scanner.head_size() - info.request_line_offset);
  boost::beast::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(head.data(), head.size()), ec);
  if (ec) FUZZ_LOG("  beast: %s\n", ec.message().c_str());
  FUZZ_CHECK(!ec && used == head.size() && parser.is_header_done());
  const auto& message = parser.get();
  FUZZ_CHECK(static_cast<int>(message.version()) == 10 + request.version_minor());
  FUZZ_CHECK(message.method_string() == request.method_string());
  FUZZ_CHECK(message.method() == request.method());
  FUZZ_CHECK(message.target() == request.target());
  FUZZ_CHECK(parser.chunked() == request.chunked());
  if (!request.chunked())
    FUZZ_CHECK(parser.content_length().value_or(0) == request.content_length().value_or(0));
  // The same fields; Beast groups repeated names together, the session keeps wire order, so
  // each name's values are compared in order.
  using Line = std::tuple<std::string, int, std::string_view, std::string_view>;
  auto lines = [](auto&& add) {
    std::vector<Line> out;
    add(out);
    std::stable_sort(out.begin(), out.end(),
                     [](const Line& a, const Line& b) { return std::get<0>(a) < std::get<0>(b); });
    return out;
  };
  auto lower = [](std::string_view name) {
    std::string out(name);
    for (char& c : out) c = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    return out;
  };
  auto beast_lines = lines([&](std::vector<Line>& out) {
    for (const auto& f : message)
      out.emplace_back(lower(f.name_string()), int(f.name()), f.name_string(), f.value());
  });
  auto my_lines = lines([&](std::vector<Line>& out) {
    for (const auto& f : request.fields())
      out.emplace_back(lower(f.name), int(f.known), f.name, f.value);
  });
  FUZZ_CHECK(beast_lines == my_lines);
  // Beast reads the first Connection line only, and in HTTP/1.0 looks for keep-alive alone;
  // the session reads every line (RFC 9110 §7.6.1). Where that cannot differ, they agree.
  auto connection_lines = message.count(bhttp::field::connection);
  if (connection_lines == 0 || (connection_lines == 1 && request.version_minor() == 1))
    FUZZ_CHECK(message.keep_alive() == request.keep_alive());
}

// One request from the front of `input`. Returns the bytes it took when a complete request
// was read and the connection would go on to the next one.
std::optional<std::size_t> one_request(std::string_view input) {
  const HeadLimits limits = fuzz_limits();
  RequestHeadScanner scanner(limits);
  if (scan_head(scanner, input) != Status::kComplete) return std::nullopt;
  const auto& info = scanner.info();

  gw::ClientRequest request;
  request.assign(input, scanner);
  check_against_beast(request, input, scanner);

  std::string_view query;
  auto path = target_path(request.target(), request[bhttp::field::host], query);
  if (!path) FUZZ_LOG("  target refused\n");
  if (path) {
    auto normalized = gw::normalize_path(*path);
    if (!normalized) FUZZ_LOG("  path refused: %.*s\n", int(path->size()), path->data());
    if (normalized) {
      check_normalized(*normalized);
      check_route(request.method_string(), *normalized);
    }
  }
  check_credentials(request, query);

  // The body, through the parser as the session relays it.
  std::string_view rest = input.substr(scanner.head_size());
  bhttp::request_parser<bhttp::buffer_body> parser;
  parser.body_limit(limits.max_body_bytes);
  std::array<char, 64> scratch;
  std::string_view framing = request.body_framing_head(scratch);
  boost::beast::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(framing.data(), framing.size()), ec);
  FUZZ_CHECK(!ec && used == framing.size() && parser.is_header_done());
  FUZZ_CHECK(parser.chunked() == info.chunked);
  FUZZ_CHECK(request.has_body() == !parser.is_done());
  std::uint64_t body_bytes = 0;
  char chunk[512];
  for (int rounds = 0; !parser.is_done(); ++rounds) {
    FUZZ_CHECK(rounds <= static_cast<int>(2 * input.size()) + 16);
    auto& body = parser.get().body();
    body.data = chunk;
    body.size = sizeof chunk;
    used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    FUZZ_CHECK(used <= rest.size());
    rest.remove_prefix(used);
    body_bytes += sizeof chunk - parser.get().body().size;
    if (ec == bhttp::error::need_buffer) {
      ec = {};
      continue;
    }
    if (ec) {
      FUZZ_LOG("  body: %s\n", ec.message().c_str());
      return std::nullopt;  // need_more at the end of the input, or a malformed body
    }
    if (used == 0 && !parser.is_done()) return std::nullopt;
  }
  if (info.content_length) FUZZ_CHECK(body_bytes == *info.content_length);
  if (!info.content_length && !info.chunked) FUZZ_CHECK(body_bytes == 0);
  FUZZ_CHECK(body_bytes <= limits.max_body_bytes);
  return input.size() - rest.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)world();
  for (int n = 0; n < kMaxRequestsPerInput && !input.empty(); ++n) {
    auto taken = one_request(input);
    if (!taken) break;
    FUZZ_CHECK(*taken > 0 && *taken <= input.size());
    input.remove_prefix(*taken);
  }
  return 0;
}

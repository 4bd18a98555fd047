#include "common/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <sstream>
#include <vector>

extern char** environ;

namespace portico {
namespace {

// One configuration key: where it lives, what it means, how to read and show it.
struct KeySpec {
  std::string section;  // empty: top level
  std::string name;
  std::string doc;
  std::string expected;  // what a valid value looks like, for error messages
  std::function<std::string(const Config&)> show;
  std::function<bool(Config&, const toml::node&)> set_from_toml;
  std::function<bool(Config&, const std::string&)> set_from_text;
};

std::string quote(const std::string& s) {
  std::ostringstream out;
  out << toml::value<std::string>(s);
  return out.str();
}

template <class Section>
using SectionOf = Section Config::*;

template <class Section>
KeySpec int_key(std::string section, std::string name, SectionOf<Section> sec, auto Section::*field,
                std::int64_t min, std::int64_t max, std::string doc) {
  using Field = std::remove_reference_t<decltype(std::declval<Section&>().*field)>;
  auto in_range = [=](Config& c, std::int64_t v) {
    if (v < min || v > max) return false;
    (c.*sec).*field = static_cast<Field>(v);
    return true;
  };
  return KeySpec{std::move(section),
                 std::move(name),
                 std::move(doc),
                 "an integer from " + std::to_string(min) + " to " + std::to_string(max),
                 [=](const Config& c) { return std::to_string((c.*sec).*field); },
                 [=](Config& c, const toml::node& n) {
                   auto v = n.value_exact<std::int64_t>();
                   return v && in_range(c, *v);
                 },
                 [=](Config& c, const std::string& text) {
                   std::int64_t v{};
                   auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
                   return ec == std::errc{} && end == text.data() + text.size() && in_range(c, v);
                 }};
}

template <class Section>
KeySpec string_key(std::string section, std::string name, SectionOf<Section> sec,
                   std::string Section::*field, std::vector<std::string> choices, std::string doc) {
  std::string expected = "a string";
  if (!choices.empty()) {
    expected = "one of";
    for (auto& c : choices) expected += " \"" + c + "\"";
  }
  auto accept = [=](Config& c, const std::string& v) {
    if (!choices.empty() && std::find(choices.begin(), choices.end(), v) == choices.end())
      return false;
    (c.*sec).*field = v;
    return true;
  };
  return KeySpec{std::move(section),
                 std::move(name),
                 std::move(doc),
                 expected,
                 [=](const Config& c) { return quote((c.*sec).*field); },
                 [=](Config& c, const toml::node& n) {
                   auto v = n.value_exact<std::string>();
                   return v && accept(c, *v);
                 },
                 accept};
}

template <class Section>
KeySpec bool_key(std::string section, std::string name, SectionOf<Section> sec,
                 bool Section::*field, std::string doc) {
  return KeySpec{std::move(section),
                 std::move(name),
                 std::move(doc),
                 "true or false",
                 [=](const Config& c) { return std::string((c.*sec).*field ? "true" : "false"); },
                 [=](Config& c, const toml::node& n) {
                   auto v = n.value_exact<bool>();
                   if (v) (c.*sec).*field = *v;
                   return v.has_value();
                 },
                 [=](Config& c, const std::string& text) {
                   if (text != "true" && text != "false") return false;
                   (c.*sec).*field = text == "true";
                   return true;
                 }};
}

KeySpec data_dir_key() {
  auto set = [](Config& c, const std::string& v) {
    if (v.empty()) return false;
    c.data_dir = v;
    return true;
  };
  return KeySpec{"",
                 "data_dir",
                 "Directory for the SQLite database, generated TLS material and snapshots; "
                 "relative paths are relative to the working directory.",
                 "a non-empty path",
                 [](const Config& c) { return quote(c.data_dir); },
                 [=](Config& c, const toml::node& n) {
                   auto v = n.value_exact<std::string>();
                   return v && set(c, *v);
                 },
                 set};
}

const std::vector<KeySpec>& key_specs() {
  static const std::vector<KeySpec> specs = [] {
    constexpr std::int64_t kMaxPort = 65535;
    std::vector<KeySpec> s;
    s.push_back(data_dir_key());
    // [server]
    s.push_back(string_key("server", "host", &Config::server, &ServerConfig::host, {},
                           "Address the listeners bind to."));
    s.push_back(int_key("server", "https_port", &Config::server, &ServerConfig::https_port, 0,
                        kMaxPort,
                        "HTTPS port of the control plane and Key Manager; 0 picks a free port."));
    s.push_back(int_key("server", "http_port", &Config::server, &ServerConfig::http_port, -1,
                        kMaxPort,
                        "Cleartext HTTP port of the control plane (OAuth, SCIM, REST); -1 turns "
                        "it off; 0 picks a free port. Keep it off or on a loopback host."));
    s.push_back(int_key("server", "threads", &Config::server, &ServerConfig::threads, 0, 256,
                        "I/O threads, one io_context each; 0 means one per core."));
    s.push_back(int_key("server", "max_body_bytes", &Config::server, &ServerConfig::max_body_bytes,
                        1, std::int64_t{1} << 40,
                        "Largest request body accepted; larger bodies get 413."));
    s.push_back(int_key("server", "read_timeout_seconds", &Config::server,
                        &ServerConfig::read_timeout_seconds, 1, 3600,
                        "Time allowed to receive a whole request once it has started."));
    s.push_back(int_key("server", "idle_timeout_seconds", &Config::server,
                        &ServerConfig::idle_timeout_seconds, 1, 3600,
                        "Keep-alive connections idle this long are closed."));
    s.push_back(int_key("server", "drain_timeout_seconds", &Config::server,
                        &ServerConfig::drain_timeout_seconds, 0, 3600,
                        "On SIGTERM, how long in-flight requests may take to finish."));
    s.push_back(string_key("server", "public_url", &Config::server, &ServerConfig::public_url, {},
                           "The URL clients reach this control plane at when a proxy is in "
                           "front of it (e.g. https://apim.example.com): the portals' sign-in "
                           "redirects go there too. Empty: the node's own listeners only."));
    // [tls]
    s.push_back(string_key("tls", "cert_file", &Config::tls, &TlsConfig::cert_file, {},
                           "PEM certificate chain; empty: a self-signed certificate is "
                           "generated into the data directory on first start."));
    s.push_back(string_key("tls", "key_file", &Config::tls, &TlsConfig::key_file, {},
                           "PEM private key for cert_file."));
    // [database]
    s.push_back(string_key("database", "url", &Config::database, &DatabaseConfig::url, {},
                           "\"postgresql://user:pass@host:port/db\" or a SQLite file path; "
                           "empty: SQLite at <data_dir>/portico.db."));
    s.push_back(int_key("database", "pool_size", &Config::database, &DatabaseConfig::pool_size, 1,
                        256, "Database sessions kept open."));
    // [admin]
    s.push_back(string_key("admin", "username", &Config::admin, &AdminConfig::username, {},
                           "Administrator created on first start."));
    s.push_back(string_key("admin", "password", &Config::admin, &AdminConfig::password, {},
                           "Password of that administrator on first start; change it."));
    // [oauth]
    s.push_back(
        string_key("oauth", "issuer", &Config::oauth, &OAuthConfig::issuer, {},
                   "`iss` of issued tokens; empty: https://localhost:<https_port>/oauth2/token."));
    s.push_back(int_key("oauth", "access_token_lifetime_seconds", &Config::oauth,
                        &OAuthConfig::access_token_lifetime_seconds, 1, 31536000,
                        "Default lifetime of access tokens."));
    s.push_back(int_key("oauth", "refresh_token_lifetime_seconds", &Config::oauth,
                        &OAuthConfig::refresh_token_lifetime_seconds, 1, 31536000,
                        "Lifetime of refresh tokens."));
    s.push_back(int_key("oauth", "authorization_code_lifetime_seconds", &Config::oauth,
                        &OAuthConfig::authorization_code_lifetime_seconds, 1, 600,
                        "Lifetime of authorization codes (at most 10 minutes)."));
    s.push_back(string_key("oauth", "signing_algorithm", &Config::oauth,
                           &OAuthConfig::signing_algorithm, {"RS256", "ES256"},
                           "Algorithm of the access-token signing key."));
    s.push_back(int_key("oauth", "signing_key_rotation_days", &Config::oauth,
                        &OAuthConfig::signing_key_rotation_days, 0, 3650,
                        "A signing key older than this is replaced at start; 0 never rotates. "
                        "Old public keys stay in the JWKS until their tokens have expired."));
    s.push_back(int_key("oauth", "credential_cache_seconds", &Config::oauth,
                        &OAuthConfig::credential_cache_seconds, 0, 86400,
                        "How long a verified client secret or password is remembered in "
                        "memory (argon2id is deliberately slow); 0 disables."));
    s.push_back(int_key("oauth", "lookup_cache_seconds", &Config::oauth,
                        &OAuthConfig::lookup_cache_seconds, 0, 3600,
                        "How long client and user records read for token requests are kept in "
                        "memory; changes made through another node show after at most this "
                        "long (through this node at once); 0 disables."));
    s.push_back(int_key("oauth", "purge_interval_seconds", &Config::oauth,
                        &OAuthConfig::purge_interval_seconds, 60, 86400,
                        "How often each node deletes expired tokens, codes and revocations "
                        "(safe on every node at once)."));
    // [security]
    s.push_back(bool_key("security", "self_signup", &Config::security, &SecurityConfig::self_signup,
                         "Whether anyone may sign up to the developer portal (new users get "
                         "the subscriber role)."));
    s.push_back(int_key("security", "max_failed_logins", &Config::security,
                        &SecurityConfig::max_failed_logins, 1, 1000,
                        "Wrong passwords or client secrets in a row before the account answers "
                        "as locked for a back-off."));
    s.push_back(int_key("security", "max_failed_logins_per_address", &Config::security,
                        &SecurityConfig::max_failed_logins_per_address, 1, 100000,
                        "Failed logins from one source address, across accounts, before that "
                        "address is refused before any hashing for a back-off."));
    s.push_back(int_key("security", "lockout_seconds", &Config::security,
                        &SecurityConfig::lockout_seconds, 1, 86400,
                        "First back-off of a locked account or address; it doubles with each "
                        "further lock."));
    s.push_back(int_key("security", "lockout_max_seconds", &Config::security,
                        &SecurityConfig::lockout_max_seconds, 1, 604800,
                        "Longest back-off of a locked account or address."));
    s.push_back(int_key("security", "hash_threads", &Config::security,
                        &SecurityConfig::hash_threads, 1, 64,
                        "Threads that verify and compute password hashes (argon2id), never an "
                        "I/O thread."));
    s.push_back(int_key("security", "hash_queue", &Config::security, &SecurityConfig::hash_queue, 1,
                        100000,
                        "Password checks waiting for a hashing thread; beyond it 503 at once."));
    s.push_back(string_key("security", "key_encryption_key", &Config::security,
                           &SecurityConfig::key_encryption_key, {},
                           "Secret that encrypts private keys at rest (signing keys, backend-JWT "
                           "key); empty: stored unencrypted, readable by the node's user only."));
    s.push_back(bool_key("security", "allow_default_admin", &Config::security,
                         &SecurityConfig::allow_default_admin,
                         "Whether `portico serve` starts with the admin password \"admin\" on a "
                         "non-loopback address."));
    s.push_back(bool_key("security", "allow_loopback_backends", &Config::security,
                         &SecurityConfig::allow_loopback_backends,
                         "Whether API endpoints may point at loopback addresses (127.0.0.0/8, "
                         "::1, localhost); the node's own listeners are always refused."));
    s.push_back(bool_key("security", "allow_link_local_backends", &Config::security,
                         &SecurityConfig::allow_link_local_backends,
                         "Whether API endpoints may point at link-local addresses "
                         "(169.254.0.0/16, fe80::/10: cloud metadata services)."));
    // [internal_api]
    s.push_back(string_key("internal_api", "username", &Config::internal_api,
                           &InternalApiConfig::username, {},
                           "User name gateways present (HTTP Basic) to the internal data API."));
    s.push_back(string_key("internal_api", "password", &Config::internal_api,
                           &InternalApiConfig::password, {},
                           "Password gateways present to the internal data API; empty refuses "
                           "every caller."));
    // [gateway]
    s.push_back(bool_key("gateway", "enabled", &Config::gateway, &GatewayConfig::enabled,
                         "Whether the all-in-one profile runs the API gateway."));
    s.push_back(string_key("gateway", "environment", &Config::gateway, &GatewayConfig::environment,
                           {}, "The gateway environment whose deployed APIs this gateway serves."));
    s.push_back(string_key("gateway", "host", &Config::gateway, &GatewayConfig::host, {},
                           "Address the gateway listens on for API calls."));
    s.push_back(int_key("gateway", "http_port", &Config::gateway, &GatewayConfig::http_port, -1,
                        kMaxPort, "Port for API calls over HTTP; -1 turns it off; 0 picks one."));
    s.push_back(int_key("gateway", "https_port", &Config::gateway, &GatewayConfig::https_port, -1,
                        kMaxPort, "Port for API calls over HTTPS; -1 turns it off; 0 picks one."));
    s.push_back(int_key("gateway", "admin_port", &Config::gateway, &GatewayConfig::admin_port, -1,
                        kMaxPort,
                        "Port of /metrics, /health/live and /health/ready; -1 turns it off."));
    s.push_back(string_key("gateway", "admin_host", &Config::gateway, &GatewayConfig::admin_host,
                           {}, "Address the admin port listens on."));
    s.push_back(int_key("gateway", "threads", &Config::gateway, &GatewayConfig::threads, 0, 256,
                        "Gateway I/O threads; 0 means one per core."));
    s.push_back(int_key("gateway", "max_body_bytes", &Config::gateway,
                        &GatewayConfig::max_body_bytes, 0, std::int64_t{1} << 50,
                        "Largest request body proxied (413 beyond); 0: no limit, bodies stream."));
    s.push_back(int_key("gateway", "read_timeout_seconds", &Config::gateway,
                        &GatewayConfig::read_timeout_seconds, 1, 3600,
                        "How long a client may take between bytes of a request or response."));
    s.push_back(int_key("gateway", "idle_timeout_seconds", &Config::gateway,
                        &GatewayConfig::idle_timeout_seconds, 1, 3600,
                        "How long an idle client keep-alive connection stays open."));
    s.push_back(bool_key("gateway", "strip_authorization", &Config::gateway,
                         &GatewayConfig::strip_authorization,
                         "Whether the Authorization header of an API call is removed before "
                         "the call goes to the backend."));
    s.push_back(bool_key("gateway", "backend_jwt", &Config::gateway, &GatewayConfig::backend_jwt,
                         "Whether backends receive a signed JWT describing the caller."));
    s.push_back(string_key("gateway", "backend_jwt_header", &Config::gateway,
                           &GatewayConfig::backend_jwt_header, {},
                           "Header that carries the backend JWT."));
    s.push_back(int_key("gateway", "jwt_leeway_seconds", &Config::gateway,
                        &GatewayConfig::jwt_leeway_seconds, 0, 600,
                        "Clock skew allowed on the exp and nbf of access tokens."));
    s.push_back(int_key("gateway", "introspection_cache_seconds", &Config::gateway,
                        &GatewayConfig::introspection_cache_seconds, 0, 86400,
                        "Longest time an introspected opaque token is trusted without asking "
                        "the Key Manager again (never beyond its expiry)."));
    s.push_back(int_key("gateway", "throttle_counter_slots", &Config::gateway,
                        &GatewayConfig::throttle_counter_slots, 1024, 1 << 24,
                        "Throttling counters kept in memory; when full, limits fail open."));
    s.push_back(int_key("gateway", "upstream_max_idle_per_endpoint", &Config::gateway,
                        &GatewayConfig::upstream_max_idle_per_endpoint, 0, 100000,
                        "Idle keep-alive connections kept per backend endpoint and thread."));
    s.push_back(int_key("gateway", "upstream_idle_timeout_seconds", &Config::gateway,
                        &GatewayConfig::upstream_idle_timeout_seconds, 1, 3600,
                        "How long an idle backend connection is kept for reuse."));
    s.push_back(string_key("gateway", "control_plane_url", &Config::gateway,
                           &GatewayConfig::control_plane_url, {},
                           "Gateway profile: the control plane's base URL (internal data API, "
                           "JWKS, introspection), e.g. https://cp.example.com:9443."));
    s.push_back(bool_key("gateway", "control_plane_verify_tls", &Config::gateway,
                         &GatewayConfig::control_plane_verify_tls,
                         "Whether the control plane's TLS certificate is verified."));
    s.push_back(string_key("gateway", "control_plane_ca_file", &Config::gateway,
                           &GatewayConfig::control_plane_ca_file, {},
                           "Gateway profile: a PEM file of the CA certificates that sign the "
                           "control plane's and key manager's certificates; empty: the "
                           "system's CA store."));
    s.push_back(string_key("gateway", "key_manager_url", &Config::gateway,
                           &GatewayConfig::key_manager_url, {},
                           "Gateway profile: the key manager's base URL (JWKS, introspection, "
                           "Basic credential checks); empty: gateway.control_plane_url."));
    s.push_back(string_key("gateway", "node_id", &Config::gateway, &GatewayConfig::node_id, {},
                           "This gateway's name in metrics and analytics; empty: the host "
                           "name."));
    s.push_back(int_key("gateway", "resync_seconds", &Config::gateway,
                        &GatewayConfig::resync_seconds, 0, 86400,
                        "A full re-pull of the configuration this often even without events "
                        "(the safety net for lost events); 0 disables."));
    s.push_back(int_key("gateway", "snapshot_write_seconds", &Config::gateway,
                        &GatewayConfig::snapshot_write_seconds, 0, 3600,
                        "Changes reach the snapshot file (last-known configuration) or its "
                        "journal at most this often; 0: after every change."));
    s.push_back(int_key("gateway", "miss_lookup_cache_seconds", &Config::gateway,
                        &GatewayConfig::miss_lookup_cache_seconds, 0, 3600,
                        "An API key, token's application or subscription the gateway does not "
                        "know is asked of the control plane once per this long before the "
                        "call is refused (read-your-writes); 0: never asked."));
    s.push_back(bool_key("gateway", "force_snapshot", &Config::gateway,
                         &GatewayConfig::force_snapshot,
                         "Accept a pull from another cluster id, or one that would drop every "
                         "API while the snapshot file has some (refused and logged otherwise)."));
    s.push_back(string_key("gateway", "analytics_url", &Config::gateway,
                           &GatewayConfig::analytics_url, {},
                           "Gateway profile: the base URL of the control plane that receives "
                           "this gateway's analytics (POST /internal/data/v1/analytics/batches), "
                           "e.g. an environment's own; empty: gateway.control_plane_url."));
    // [redis]
    s.push_back(string_key("redis", "url", &Config::redis, &RedisConfig::url, {},
                           "The cluster's event log, \"redis://[:password@]host:port[/db]\"; "
                           "required by the distributed profiles; empty: events stay in the "
                           "process (all-in-one)."));
    s.push_back(string_key("redis", "key_prefix", &Config::redis, &RedisConfig::key_prefix, {},
                           "Prefix of the Redis keys, so that clusters can share one Redis."));
    s.push_back(int_key("redis", "event_retention", &Config::redis, &RedisConfig::event_retention,
                        100, 100000000,
                        "Events the log keeps; a gateway away for longer reloads everything."));
    s.push_back(int_key("redis", "outbox_capacity", &Config::redis, &RedisConfig::outbox_capacity,
                        1, 10000000,
                        "Events a node without a database keeps while Redis is unreachable; "
                        "beyond it every consumer is told to reload."));
    // [events]
    s.push_back(string_key("events", "transport", &Config::events, &EventsConfig::transport,
                           {"auto", "redis", "sse"},
                           "How this node follows the cluster's events: \"redis\" (the log "
                           "itself, needs redis.url), \"sse\" (gateway profile: the control "
                           "plane's event stream over gateway.control_plane_url, no Redis), "
                           "\"auto\": redis when redis.url is set, else in process."));
    s.push_back(int_key("events", "stream_history", &Config::events, &EventsConfig::stream_history,
                        1, 10000000,
                        "Control plane: latest events kept in memory so that a gateway's event "
                        "stream resumes where it broke off; a gateway further behind reloads."));
    s.push_back(int_key("events", "max_streams", &Config::events, &EventsConfig::max_streams, 1,
                        1000000,
                        "Control plane: event streams served at once (one per gateway); beyond "
                        "it a gateway is answered 503 and retries."));
    s.push_back(int_key("events", "heartbeat_seconds", &Config::events,
                        &EventsConfig::heartbeat_seconds, 1, 300,
                        "Control plane: an idle event stream carries a keep-alive comment this "
                        "often; a gateway hearing nothing for three times as long reconnects."));
    // [traffic]
    s.push_back(string_key("traffic", "mode", &Config::traffic, &TrafficConfig::mode,
                           {"fail-open", "fail-closed"},
                           "Gateway, when no traffic manager answers (or Redis is down): "
                           "\"fail-open\" counts on each gateway at L/N of the last known "
                           "membership; \"fail-closed\" spends the leases it holds, then refuses "
                           "with 503 900809."));
    s.push_back(string_key("traffic", "manager_urls", &Config::traffic,
                           &TrafficConfig::manager_urls, {},
                           "Gateway profile: comma-separated base URLs of the traffic managers "
                           "(or one nginx in front of them); empty: counters are per node."));
    s.push_back(int_key("traffic", "lease_timeout_ms", &Config::traffic,
                        &TrafficConfig::lease_timeout_ms, 10, 5000,
                        "Gateway: time limit of one lease call to a traffic manager (never on "
                        "the request path)."));
    s.push_back(int_key("traffic", "lease_horizon_ms", &Config::traffic,
                        &TrafficConfig::lease_horizon_ms, 10, 60000,
                        "Gateway: a lease asks for about this long of a counter's recent "
                        "demand; the traffic manager grants less as the quota runs out."));
    s.push_back(int_key("traffic", "lease_idle_ms", &Config::traffic, &TrafficConfig::lease_idle_ms,
                        10, 600000,
                        "Gateway: unspent quota of a counter idle this long is given back, so "
                        "that an idle gateway does not starve the others."));
    s.push_back(int_key("traffic", "heartbeat_ms", &Config::traffic, &TrafficConfig::heartbeat_ms,
                        100, 600000,
                        "Gateway: how often it tells the traffic managers it is alive (the "
                        "membership that divides lease sizes and fallback limits)."));
    s.push_back(int_key("traffic", "breaker_failures", &Config::traffic,
                        &TrafficConfig::breaker_failures, 1, 1000,
                        "Gateway: failed lease calls in a row that open the circuit to the "
                        "traffic managers (then traffic.mode decides)."));
    s.push_back(int_key("traffic", "breaker_reset_ms", &Config::traffic,
                        &TrafficConfig::breaker_reset_ms, 10, 600000,
                        "Gateway: an open circuit tries the traffic managers again after this "
                        "long."));
    s.push_back(int_key("traffic", "membership_ttl_seconds", &Config::traffic,
                        &TrafficConfig::membership_ttl_seconds, 1, 3600,
                        "Traffic manager: a gateway not heard from for this long no longer "
                        "counts as a member."));
    s.push_back(int_key("traffic", "flush_seconds", &Config::traffic, &TrafficConfig::flush_seconds,
                        1, 3600,
                        "Counters of windows of an hour or longer are written to the database "
                        "this often (traffic managers: PostgreSQL; all-in-one: its database), "
                        "so they survive a Redis or node restart."));
    // [analytics]
    s.push_back(bool_key("analytics", "enabled", &Config::analytics, &AnalyticsConfig::enabled,
                         "Whether API calls are recorded (rollups, metrics, file)."));
    s.push_back(string_key("analytics", "file", &Config::analytics, &AnalyticsConfig::file, {},
                           "JSON-lines file receiving one event per API call; empty: none."));
    s.push_back(int_key("analytics", "queue_capacity", &Config::analytics,
                        &AnalyticsConfig::queue_capacity, 16, 1 << 20,
                        "Events queued per gateway thread; beyond it events are dropped "
                        "(counted), never waited for."));
    s.push_back(int_key("analytics", "flush_interval_ms", &Config::analytics,
                        &AnalyticsConfig::flush_interval_ms, 10, 60000,
                        "How often queued events are written out."));
    // [log]
    s.push_back(string_key("log", "level", &Config::log, &LogConfig::level,
                           {"trace", "debug", "info", "warn", "error", "off"}, "Log level."));
    s.push_back(string_key("log", "format", &Config::log, &LogConfig::format, {"text", "json"},
                           "Log lines as text or as JSON lines."));
    return s;
  }();
  return specs;
}

std::string full_name(const KeySpec& k) {
  return k.section.empty() ? k.name : k.section + "." + k.name;
}

std::string env_name(const KeySpec& k) {
  std::string n = "PORTICO_" + (k.section.empty() ? "" : k.section + "_") + k.name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::toupper(c); });
  return n;
}

const KeySpec* find_key(const std::string& section, const std::string& name) {
  for (auto& k : key_specs())
    if (k.section == section && k.name == name) return &k;
  return nullptr;
}

bool is_section(const std::string& name) {
  for (auto& k : key_specs())
    if (k.section == name) return true;
  return false;
}

std::string node_text(const toml::node& n) {
  std::ostringstream out;
  n.visit([&](auto&& v) { out << v; });
  return out.str();
}

void apply_toml(Config& c, const toml::table& root, const std::string& path) {
  for (auto&& [key, node] : root) {
    std::string name(key.str());
    if (auto* table = node.as_table(); table && is_section(name)) {
      for (auto&& [sub_key, sub_node] : *table) {
        std::string sub_name(sub_key.str());
        const KeySpec* spec = find_key(name, sub_name);
        if (!spec) throw ConfigError(path + ": unknown key " + name + "." + sub_name);
        if (!spec->set_from_toml(c, sub_node))
          throw ConfigError(path + ": " + full_name(*spec) + " = " + node_text(sub_node) +
                            " is not valid: expected " + spec->expected);
      }
      continue;
    }
    const KeySpec* spec = find_key("", name);
    if (!spec) throw ConfigError(path + ": unknown key " + name);
    if (!spec->set_from_toml(c, node))
      throw ConfigError(path + ": " + name + " = " + node_text(node) + " is not valid: expected " +
                        spec->expected);
  }
}

}  // namespace

std::string Config::database_url() const {
  return database.url.empty() ? data_dir + "/portico.db" : database.url;
}

std::string Config::issuer() const {
  return oauth.issuer.empty()
             ? "https://localhost:" + std::to_string(server.https_port) + "/oauth2/token"
             : oauth.issuer;
}

std::string Config::event_transport() const {
  if (events.transport == "auto") return redis.url.empty() ? "" : "redis";
  return events.transport;
}

Config load_config(const std::string& path, const std::map<std::string, std::string>& environment) {
  Config c;
  if (!path.empty()) {
    toml::table root;
    try {
      root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      std::ostringstream msg;
      msg << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
          << e.description();
      throw ConfigError(msg.str());
    }
    apply_toml(c, root, path);
  }
  for (auto& [name, value] : environment) {
    if (name.rfind("PORTICO_", 0) != 0) continue;
    const KeySpec* spec = nullptr;
    for (auto& k : key_specs())
      if (env_name(k) == name) spec = &k;
    if (!spec) continue;  // other PORTICO_ variables (tests, scripts) are not configuration
    if (!spec->set_from_text(c, value))
      throw ConfigError("environment " + name + "=\"" + value + "\" is not valid for " +
                        full_name(*spec) + ": expected " + spec->expected);
  }
  return c;
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

std::string default_config_toml() {
  Config defaults;
  std::ostringstream out;
  out << "# Portico configuration. Every key is shown with its default value.\n"
         "# Each key can be overridden by an environment variable PORTICO_<SECTION>_<KEY>.\n";
  std::string section = "-";
  for (auto& k : key_specs()) {
    if (k.section != section) {
      section = k.section;
      if (!section.empty()) out << "\n[" << section << "]\n";
    }
    out << "# " << k.doc << " (" << env_name(k) << ")\n";
    out << k.name << " = " << k.show(defaults) << "\n";
  }
  return out.str();
}

std::string config_reference_markdown() {
  Config defaults;
  std::ostringstream out;
  out << "| key | default | environment | meaning |\n|---|---|---|---|\n";
  for (auto& k : key_specs()) {
    out << "| `" << full_name(k) << "` | `" << k.show(defaults) << "` | `" << env_name(k) << "` | "
        << k.doc << " Expected: " << k.expected << ". |\n";
  }
  return out.str();
}

}  // namespace portico

#pragma once
// Portico's configuration: one TOML file, every key documented with its default,
// PORTICO_<SECTION>_<KEY> environment variables override the file.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace portico {

struct ServerConfig {
  std::string host = "0.0.0.0";
  int https_port = 9443;
  int http_port = -1;  // cleartext listener; -1: off
  int threads = 0;     // 0: one per core
  std::int64_t max_body_bytes = 10 * 1024 * 1024;
  int read_timeout_seconds = 30;
  int idle_timeout_seconds = 60;
  int drain_timeout_seconds = 10;
  std::string public_url;  // where clients reach this node through a proxy; "" when direct
};

struct TlsConfig {
  std::string cert_file;  // empty: self-signed material generated into the data directory
  std::string key_file;
};

struct DatabaseConfig {
  std::string url;  // empty: SQLite at <data_dir>/portico.db
  int pool_size = 8;
};

struct AdminConfig {
  std::string username = "admin";
  std::string password = "admin";
};

struct OAuthConfig {
  std::string issuer;  // empty: https://localhost:<https_port>/oauth2/token
  int access_token_lifetime_seconds = 3600;
  int refresh_token_lifetime_seconds = 86400;
  int authorization_code_lifetime_seconds = 600;
  std::string signing_algorithm = "RS256";
  int signing_key_rotation_days = 90;
  int credential_cache_seconds = 300;
  int lookup_cache_seconds = 5;
  int purge_interval_seconds = 3600;  // expired tokens and codes deleted this often
};

// The node's defences: login throttling, password hashing, key material at rest, the
// cleartext listener and the backends a publisher may point an API at (docs/security.md).
struct SecurityConfig {
  bool self_signup = true;                 // anyone may sign up to the developer portal
  int max_failed_logins = 5;               // per account, before it answers as locked
  int max_failed_logins_per_address = 20;  // per source address, across accounts
  int lockout_seconds = 60;                // first back-off; doubles with each further lock
  int lockout_max_seconds = 3600;          // the back-off never grows beyond this
  int hash_threads = 2;                    // password hashing pool (never an I/O thread)
  int hash_queue = 64;                     // hashes waiting beyond this: 503 at once
  std::string key_encryption_key;          // empty: private keys at rest are not encrypted
  bool allow_default_admin = false;        // admin/admin on a non-loopback address
  bool allow_loopback_backends = false;    // API endpoints on 127.0.0.0/8, ::1, localhost
  bool allow_link_local_backends = false;  // API endpoints on 169.254.0.0/16, fe80::/10
};

struct InternalApiConfig {
  std::string username = "gateway";
  std::string password;  // empty: the internal data API refuses every caller
};

struct GatewayConfig {
  bool enabled = true;  // all-in-one: run the gateway in the same process
  std::string environment = "Default";
  std::string host = "0.0.0.0";
  int http_port = 8280;
  int https_port = 8243;
  int admin_port = 9280;
  std::string admin_host = "127.0.0.1";
  int threads = 0;                  // 0: one per core
  std::int64_t max_body_bytes = 0;  // 0: no limit (bodies stream)
  int read_timeout_seconds = 60;
  int idle_timeout_seconds = 60;
  bool strip_authorization = true;
  bool backend_jwt = false;
  std::string backend_jwt_header = "X-JWT-Assertion";
  int jwt_leeway_seconds = 60;
  int introspection_cache_seconds = 900;
  int throttle_counter_slots = 65536;
  int upstream_max_idle_per_endpoint = 64;
  int upstream_idle_timeout_seconds = 30;
  std::string control_plane_url;  // gateway profile: where the internal data API is
  bool control_plane_verify_tls = true;
  std::string control_plane_ca_file;  // PEM CA bundle for the control plane and key manager
  std::string key_manager_url;        // JWKS, introspection; empty: control_plane_url
  std::string node_id;                // in metrics and analytics; empty: the host name
  int resync_seconds = 300;           // full re-pull even without events
  int snapshot_write_seconds = 5;     // changes reach the snapshot file at most this often
  int miss_lookup_cache_seconds = 5;  // an unknown credential asked once per this long
  bool force_snapshot = false;        // accept a pull from another cluster or one emptying it
  // Per environment (docs/deployment.md): where this gateway's analytics batches go.
  std::string analytics_url;  // a control plane's base URL; empty: control_plane_url
};

struct RedisConfig {
  std::string url;  // empty: no Redis (all-in-one: the in-process event bus)
  std::string key_prefix = "portico";
  int event_retention = 100000;  // events the cluster's log keeps
  int outbox_capacity = 100000;  // events kept in memory by a node without a database
};

// How events reach a node, and what a control plane keeps to serve its event stream.
struct EventsConfig {
  std::string transport = "auto";  // "redis", "sse" (gateway: the control plane's stream), "auto"
  int stream_history = 10000;      // events a control plane keeps in memory for resuming streams
  int max_streams = 1000;          // event streams a control plane serves at once
  int heartbeat_seconds = 5;       // a stream's keep-alive comment, when idle
};

// Cluster-wide throttling (docs/throttling.md): gateways spend quota leased from the traffic
// managers; traffic managers keep the counters in Redis and long windows in the database.
struct TrafficConfig {
  // Gateway: when no traffic manager can be reached, "fail-open" counts per gateway at L/N of
  // the last known membership; "fail-closed" refuses what its leases no longer cover (503).
  std::string mode = "fail-open";
  std::string manager_urls;         // gateway: comma-separated base URLs; empty: per-node counters
  int lease_timeout_ms = 150;       // gateway: one lease call's time limit
  int lease_horizon_ms = 500;       // gateway: a lease asks for this long of recent demand
  int lease_idle_ms = 1000;         // gateway: an unspent lease idle this long is given back
  int heartbeat_ms = 2000;          // gateway: membership heartbeat to the traffic managers
  int breaker_failures = 3;         // gateway: failed calls in a row that open the circuit
  int breaker_reset_ms = 1000;      // gateway: an open circuit tries again after this long
  int membership_ttl_seconds = 10;  // traffic manager: a silent gateway stops counting after
  int flush_seconds = 5;            // windows of an hour or longer reach the database this often
};

struct AnalyticsConfig {
  bool enabled = true;
  std::string file;  // JSON lines, one event a line; empty: none
  int queue_capacity = 8192;
  int flush_interval_ms = 1000;
};

struct LogConfig {
  std::string level = "info";
  std::string format = "text";
};

struct Config {
  std::string data_dir = "data";
  ServerConfig server;
  TlsConfig tls;
  DatabaseConfig database;
  AdminConfig admin;
  OAuthConfig oauth;
  SecurityConfig security;
  InternalApiConfig internal_api;
  GatewayConfig gateway;
  RedisConfig redis;
  EventsConfig events;
  TrafficConfig traffic;
  AnalyticsConfig analytics;
  LogConfig log;

  // The SQLite path or PostgreSQL URL the node uses.
  std::string database_url() const;
  // The `iss` of issued tokens.
  std::string issuer() const;
  // events.transport resolved: "redis", "sse", or "" (in process).
  std::string event_transport() const;
};

// A configuration problem; the message names the key, the value and what was expected.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads the TOML file (when `path` is not empty), then applies the environment.
// Throws ConfigError on an unknown key, a value of the wrong type or out of range.
Config load_config(const std::string& path, const std::map<std::string, std::string>& environment);

// The process environment as a map, for load_config.
std::map<std::string, std::string> process_environment();

// The complete default configuration as TOML, with a comment on every key.
std::string default_config_toml();

// The configuration reference as a Markdown table (docs/configuration.md is made from it).
std::string config_reference_markdown();

}  // namespace portico

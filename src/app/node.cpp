#include "app/node.h"

#include <unistd.h>

#include <csignal>
#include <cstring>
#include <future>
#include <thread>

#include "admin/admin.h"
#include "analytics/analytics.h"
#include "app/database_outbox.h"
#include "app/default_admin.h"
#include "app/profile.h"
#include "app/quota_windows_flusher.h"
#include "common/crypto.h"
#include "common/key_encryption.h"
#include "common/log.h"
#include "common/private_files.h"
#include "common/tls_material.h"
#include "devportal/devportal.h"
#include "events/event_bus.h"
#include "events/redis_event_log.h"
#include "events/sse_event_stream.h"
#include "gateway/gateway.h"
#include "http/server.h"
#include "keymanager/keymanager.h"
#include "portals/portals.h"
#include "publisher/publisher.h"
#include "store/database.h"
#include "trafficmanager/trafficmanager.h"

namespace portico {

struct Node::Impl {
  Config config;
  Profile profile = Profile::kAllInOne;
  std::unique_ptr<store::Database> db;
  // In process (all-in-one), or the cluster's log on Redis when [redis] url is set.
  std::unique_ptr<events::EventBus> bus;
  std::unique_ptr<keymanager::KeyManager> key_manager;
  // Control-plane components (all-in-one and control-plane profiles).
  std::unique_ptr<admin::Admin> admin;
  std::unique_ptr<publisher::Publisher> publisher;
  std::unique_ptr<devportal::DevPortal> devportal;
  std::unique_ptr<analytics::Recorder> recorder;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<gateway::Gateway> gateway;
  std::unique_ptr<trafficmanager::TrafficManager> traffic_manager;
  // All-in-one: the in-process gateway's day and month counts, kept in the database.
  std::unique_ptr<QuotaWindowsFlusher> quota_windows;
};

namespace {

std::unique_ptr<gateway::ControlPlane> connect_to(const Config& c, const std::string& url);

// A gateway with nothing but the control plane's URL follows its event stream, on a
// connection of its own.
std::unique_ptr<events::EventBus> control_plane_event_stream(const Config& c) {
  std::shared_ptr<gateway::ControlPlane> control_plane = connect_to(c, c.gateway.control_plane_url);
  events::SseStreamOptions o;
  o.idle_timeout = std::chrono::seconds(3 * c.events.heartbeat_seconds);
  return std::make_unique<events::SseEventStream>(
      o, [control_plane](const std::string& path, const std::string& last_event_id,
                         std::chrono::milliseconds idle_timeout,
                         const std::function<void(std::string_view)>& on_data,
                         const std::atomic<bool>& stop) {
        return control_plane->stream(path, last_event_id, idle_timeout, on_data, stop);
      });
}

// With a database, events wait in its outbox table while Redis is away (several nodes drain
// it); a gateway keeps them in memory.
std::unique_ptr<events::EventBus> event_bus(const Config& c, store::Database* db) {
  const std::string transport = c.event_transport();
  if (transport == "sse") return control_plane_event_stream(c);
  if (transport.empty()) return std::make_unique<events::InProcessBus>();
  events::RedisLogOptions o;
  o.url = c.redis.url;
  o.key_prefix = c.redis.key_prefix;
  o.retention = static_cast<std::uint64_t>(c.redis.event_retention);
  std::unique_ptr<events::EventOutbox> outbox;
  if (db)
    outbox = std::make_unique<DatabaseOutbox>(*db);
  else
    outbox =
        std::make_unique<events::MemoryOutbox>(static_cast<std::size_t>(c.redis.outbox_capacity));
  try {
    return std::make_unique<events::RedisEventLog>(o, std::move(outbox));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("redis.url: ") + e.what());
  }
}

// A gateway of its own reaches the control plane, and the key manager when it is a node of its
// own, over HTTPS with the internal credential.
std::unique_ptr<gateway::ControlPlane> connect_to(const Config& c, const std::string& url) {
  return gateway::http_control_plane(url, c.internal_api.username, c.internal_api.password,
                                     c.gateway.control_plane_verify_tls,
                                     c.gateway.control_plane_ca_file);
}

std::unique_ptr<gateway::ControlPlane> remote_control_plane(const Config& c) {
  const GatewayConfig& g = c.gateway;
  auto control_plane = connect_to(c, g.control_plane_url);
  if (g.key_manager_url.empty() || g.key_manager_url == g.control_plane_url) return control_plane;
  return gateway::split_control_plane(std::move(control_plane), connect_to(c, g.key_manager_url));
}

// Load balancers and orchestrators ask every node the same two questions. `ready_check`, when
// given, says whether what the node depends on answers (else 503).
void register_health_routes(http::Router& router, Profile profile,
                            std::function<bool()> ready_check = nullptr) {
  router.add("GET", "/health/live",
             [](http::Request&) { return http::Response::json(200, R"({"status":"live"})"); });
  std::string ready =
      R"({"status":"ready","profile":")" + std::string(profile_name(profile)) + R"("})";
  std::string not_ready =
      R"({"status":"not ready","profile":")" + std::string(profile_name(profile)) + R"("})";
  router.add("GET", "/health/ready", [ready, not_ready, ready_check](http::Request&) {
    if (ready_check && !ready_check()) return http::Response::json(503, not_ready);
    return http::Response::json(200, ready);
  });
}

analytics::Options analytics_options(const Config& c, bool remote_gateway) {
  analytics::Options a;
  a.data_dir = c.data_dir;
  a.queue_capacity = static_cast<std::size_t>(c.analytics.queue_capacity);
  a.flush_interval_ms = c.analytics.flush_interval_ms;
  a.file_sink_path = c.analytics.file;
  a.node_id = c.gateway.node_id;
  if (remote_gateway) {
    // A connection of its own: batches go from the recorder's writer thread, and must not
    // wait behind (or hold up) the gateway's configuration pulls.
    const std::string& url = c.gateway.analytics_url;
    std::shared_ptr<gateway::ControlPlane> control_plane =
        connect_to(c, url.empty() ? c.gateway.control_plane_url : url);
    a.ship = [control_plane](std::string_view, std::string_view body) {
      auto response = control_plane->call("POST", "/internal/data/v1/analytics/batches",
                                          "application/json", body, true);
      return analytics::ShipResult{response.status};
    };
  }
  return a;
}

gateway::GatewayOptions gateway_options(const Config& c, const TlsFiles& tls) {
  const GatewayConfig& g = c.gateway;
  gateway::GatewayOptions o;
  o.environment = g.environment;
  o.host = g.host;
  o.http_port = g.http_port;
  o.https_port = g.https_port;
  o.admin_port = g.admin_port;
  o.admin_host = g.admin_host;
  o.tls_cert_file = tls.cert_file;
  o.tls_key_file = tls.key_file;
  o.tls_key_pem = tls.key_pem;
  o.threads = g.threads > 0 ? g.threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  o.max_body_bytes = g.max_body_bytes;
  o.read_timeout = std::chrono::seconds(g.read_timeout_seconds);
  o.idle_timeout = std::chrono::seconds(g.idle_timeout_seconds);
  o.max_idle_upstream_per_endpoint = static_cast<std::size_t>(g.upstream_max_idle_per_endpoint);
  o.upstream_idle_timeout = std::chrono::seconds(g.upstream_idle_timeout_seconds);
  o.strip_authorization = g.strip_authorization;
  o.backend_jwt = g.backend_jwt;
  o.backend_jwt_header = g.backend_jwt_header;
  o.data_dir = c.data_dir;
  o.key_encryption = KeyEncryption(c.security.key_encryption_key);
  o.issuer = c.issuer();
  o.jwt_leeway_seconds = g.jwt_leeway_seconds;
  o.introspection_cache_seconds = g.introspection_cache_seconds;
  o.throttle_counter_slots = static_cast<std::size_t>(g.throttle_counter_slots);
  o.miss_lookup_cache_seconds = g.miss_lookup_cache_seconds;
  o.resync_seconds = g.resync_seconds;
  o.snapshot_write_seconds = g.snapshot_write_seconds;
  o.force_snapshot = g.force_snapshot;
  o.backend_policy =
      std::make_shared<const BackendAddressPolicy>(BackendAddressPolicy::from_config(c));
  return o;
}

// A gateway of its own with traffic.manager_urls leases its quota from the traffic managers,
// over the same kind of connection as the control plane's, bounded by lease_timeout_ms.
gateway::TrafficLeaseOptions traffic_lease_options(const Config& c) {
  const TrafficConfig& t = c.traffic;
  gateway::TrafficLeaseOptions o;
  std::string_view urls = t.manager_urls;
  while (!urls.empty()) {
    auto comma = urls.find(',');
    std::string_view url = urls.substr(0, comma);
    urls = comma == std::string_view::npos ? std::string_view{} : urls.substr(comma + 1);
    while (!url.empty() && url.front() == ' ') url.remove_prefix(1);
    while (!url.empty() && url.back() == ' ') url.remove_suffix(1);
    if (url.empty()) continue;
    o.managers.push_back(gateway::http_control_plane(
        std::string(url), c.internal_api.username, c.internal_api.password,
        c.gateway.control_plane_verify_tls, c.gateway.control_plane_ca_file,
        std::chrono::milliseconds(t.lease_timeout_ms)));
  }
  // Stable across restarts, so that a restarted gateway is not counted twice.
  o.gateway_id = c.gateway.node_id;
  if (o.gateway_id.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "gateway");
    o.gateway_id = std::string(host) + ":" + std::to_string(c.gateway.http_port);
  }
  o.fail_closed = t.mode == "fail-closed";
  o.lease_horizon_ms = t.lease_horizon_ms;
  o.lease_idle_ms = t.lease_idle_ms;
  o.heartbeat_ms = t.heartbeat_ms;
  o.breaker_failures = t.breaker_failures;
  o.breaker_reset_ms = t.breaker_reset_ms;
  return o;
}

}  // namespace

Node::Node(Config config, std::string profile) : impl_(std::make_unique<Impl>()) {
  impl_->profile = parse_profile(profile);
  require_settings(config, impl_->profile);
  impl_->config = std::move(config);
}

Node::~Node() {
  // A password hash still running resumes its request on a server thread: the servers stop
  // (their threads end, their io_contexts stay) before the hashing pool, and the pool before
  // the servers are destroyed.
  if (impl_->gateway) impl_->gateway->stop(std::chrono::seconds(0));
  if (impl_->server) impl_->server->stop(std::chrono::seconds(0));
  if (impl_->key_manager) impl_->key_manager->stop_hashing();
  // Then the event log's threads, which call into the gateway and drain into the database.
  impl_->bus.reset();
}

void Node::start() {
  auto& c = impl_->config;
  const ProfileParts parts = parts_of(impl_->profile);
  prepare_data_dir(c.data_dir);
  if (parts.database) {
    impl_->db = store::Database::open(c.database_url(), c.database.pool_size);
    int version = impl_->db->migrate();
    spdlog::info("database {} at schema version {}",
                 impl_->db->backend() == store::Backend::sqlite ? "SQLite" : "PostgreSQL", version);
  }
  impl_->bus = event_bus(c, impl_->db.get());

  std::future<bool> default_admin;
  if (parts.key_manager) {
    impl_->key_manager = std::make_unique<keymanager::KeyManager>(c, *impl_->db, *impl_->bus);
    impl_->key_manager->initialize();
    // One argon2id verify (~0.1 s), beside the rest of the start.
    default_admin = std::async(std::launch::async, [this] {
      return admin_has_default_password(impl_->config, *impl_->key_manager);
    });
  }

  bool in_process_gateway = impl_->profile == Profile::kAllInOne && c.gateway.enabled;
  if (in_process_gateway && c.internal_api.password.empty()) {
    // The in-process gateway reads the internal data API like any other gateway; with no
    // password configured, remote gateways stay refused and only this process knows this one.
    c.internal_api.password = crypto::random_token(32);
  }
  auto router = std::make_shared<http::Router>();
  if (parts.quota_leases) {
    auto& tm = impl_->traffic_manager;
    tm = std::make_unique<trafficmanager::TrafficManager>(c, *impl_->db, *impl_->bus);
    tm->register_routes(*router);
    register_health_routes(*router, impl_->profile, [&tm] { return tm->ready(); });
  } else if (parts.server) {
    register_health_routes(*router, impl_->profile);
  }
  if (parts.key_manager) impl_->key_manager->register_routes(*router);
  if (parts.control_plane) {
    // In dependency order: admin, then publisher and developer portal.
    impl_->admin = std::make_unique<admin::Admin>(c, *impl_->db, *impl_->bus, *impl_->key_manager);
    impl_->admin->initialize();
    impl_->admin->register_routes(*router);
    impl_->publisher = std::make_unique<publisher::Publisher>(c, *impl_->db, *impl_->bus,
                                                              *impl_->key_manager, *impl_->admin);
    impl_->publisher->register_routes(*router);
    impl_->devportal = std::make_unique<devportal::DevPortal>(c, *impl_->db, *impl_->bus,
                                                              *impl_->key_manager, *impl_->admin);
    impl_->devportal->register_routes(*router);
    portals::install(*router, *impl_->db, c);
  }
  if (c.analytics.enabled && (parts.control_plane || parts.remote_gateway)) {
    // A gateway of its own has no database: its rollups go to the control plane in batches.
    impl_->recorder = std::make_unique<analytics::Recorder>(
        analytics_options(c, parts.remote_gateway), impl_->db.get());
    impl_->recorder->start();
    if (parts.control_plane)
      analytics::register_routes(*router, *impl_->recorder, *impl_->key_manager, *impl_->db);
  }

  if (default_admin.valid()) enforce_default_admin_policy(c, default_admin.get());
  auto tls = ensure_tls_material(c.data_dir, c.tls.cert_file, c.tls.key_file,
                                 KeyEncryption(c.security.key_encryption_key));
  // The gateway listens before the control plane does: once the control plane answers,
  // the node is fully up (scripts and tests wait for that one signal).
  if (in_process_gateway || parts.remote_gateway) {
    auto control_plane = in_process_gateway
                             ? gateway::in_process_control_plane(router, c.internal_api.username,
                                                                 c.internal_api.password)
                             : remote_control_plane(c);
    auto options = gateway_options(c, tls);
    if (parts.remote_gateway) options.traffic = traffic_lease_options(c);
    impl_->gateway = std::make_unique<gateway::Gateway>(
        std::move(options), std::move(control_plane), impl_->bus.get(), impl_->recorder.get());
    if (in_process_gateway) {
      impl_->quota_windows = std::make_unique<QuotaWindowsFlusher>(
          *impl_->db, impl_->gateway->throttler(), std::chrono::seconds(c.traffic.flush_seconds));
      impl_->quota_windows->restore();  // before the gateway serves: no quota starts afresh
      impl_->quota_windows->start();
    }
    impl_->gateway->start();
  }
  if (!parts.server) {
    spdlog::info("portico {} ready: environment '{}', https://{}:{} http://{}:{}",
                 profile_name(impl_->profile), c.gateway.environment, c.gateway.host,
                 impl_->gateway->https_port(), c.gateway.host, impl_->gateway->http_port());
    return;
  }
  http::ServerOptions options;
  options.host = c.server.host;
  options.http_port = c.server.http_port;
  options.https_port = c.server.https_port;
  options.tls_cert_file = tls.cert_file;
  options.tls_key_file = tls.key_file;
  options.tls_key_pem = tls.key_pem;
  options.threads =
      c.server.threads > 0 ? c.server.threads : std::max(1u, std::thread::hardware_concurrency());
  options.max_body_bytes = static_cast<std::size_t>(c.server.max_body_bytes);
  options.read_timeout = std::chrono::seconds(c.server.read_timeout_seconds);
  options.idle_timeout = std::chrono::seconds(c.server.idle_timeout_seconds);
  impl_->server = std::make_unique<http::Server>(options, router);
  impl_->server->start();
  spdlog::info("portico {} ready: https://{}:{} http://{}:{} ({} threads)",
               profile_name(impl_->profile), c.server.host, impl_->server->https_port(),
               c.server.host, impl_->server->http_port(), options.threads);
}

void Node::run_until_signalled() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("{} received: draining for at most {} s", strsignal(received),
               impl_->config.server.drain_timeout_seconds);
  // Both listeners drain side by side within the one grace.
  auto grace = std::chrono::seconds(impl_->config.server.drain_timeout_seconds);
  if (impl_->gateway) impl_->gateway->drain();
  if (impl_->server) impl_->server->drain();
  auto deadline = std::chrono::steady_clock::now() + grace;
  auto left = [&] {
    return std::chrono::ceil<std::chrono::seconds>(std::max(
        deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration{}));
  };
  if (impl_->gateway) impl_->gateway->stop(left());
  if (impl_->quota_windows) impl_->quota_windows->stop();  // the last counts, once served
  if (impl_->server) impl_->server->stop(left());
  if (impl_->key_manager) {
    impl_->key_manager->stop_hashing();
    impl_->key_manager->stop_purging();
  }
  if (impl_->recorder) impl_->recorder->stop();
  if (impl_->traffic_manager) impl_->traffic_manager->stop();
  spdlog::info("stopped");
  spdlog::default_logger()->flush();
}

}  // namespace portico

#include "app/node.h"

#include <csignal>
#include <future>
#include <thread>

#include "admin/admin.h"
#include "analytics/analytics.h"
#include "app/database_outbox.h"
#include "app/default_admin.h"
#include "common/crypto.h"
#include "common/key_encryption.h"
#include "common/log.h"
#include "common/private_files.h"
#include "common/tls_material.h"
#include "devportal/devportal.h"
#include "events/event_bus.h"
#include "events/redis_event_log.h"
#include "gateway/gateway.h"
#include "http/server.h"
#include "keymanager/keymanager.h"
#include "portals/portals.h"
#include "publisher/publisher.h"
#include "store/database.h"

namespace portico {

struct Node::Impl {
  Config config;
  std::string profile;
  std::unique_ptr<store::Database> db;
  // In process (all-in-one), or the cluster's log on Redis when [redis] url is set.
  std::unique_ptr<events::EventBus> bus;
  std::unique_ptr<keymanager::KeyManager> key_manager;
  // Control-plane components (all-in-one profile): members go here.
  std::unique_ptr<admin::Admin> admin;
  std::unique_ptr<publisher::Publisher> publisher;
  std::unique_ptr<devportal::DevPortal> devportal;
  std::unique_ptr<analytics::Recorder> recorder;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<gateway::Gateway> gateway;
};

namespace {

std::unique_ptr<events::EventBus> event_bus(const Config& c, store::Database& db) {
  if (c.redis.url.empty()) return std::make_unique<events::InProcessBus>();
  events::RedisLogOptions o;
  o.url = c.redis.url;
  o.key_prefix = c.redis.key_prefix;
  o.retention = static_cast<std::uint64_t>(c.redis.event_retention);
  try {
    return std::make_unique<events::RedisEventLog>(o, std::make_unique<DatabaseOutbox>(db));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("redis.url: ") + e.what());
  }
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
  o.backend_policy =
      std::make_shared<const BackendAddressPolicy>(BackendAddressPolicy::from_config(c));
  return o;
}

}  // namespace

Node::Node(Config config, std::string profile) : impl_(std::make_unique<Impl>()) {
  // The gateway, traffic-manager and control-plane profiles arrive with their components.
  if (profile != "all-in-one" && profile != "key-manager")
    throw ConfigError("profile '" + profile +
                      "' is not available in this version; expected all-in-one or key-manager");
  impl_->config = std::move(config);
  impl_->profile = std::move(profile);
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
  prepare_data_dir(c.data_dir);
  impl_->db = store::Database::open(c.database_url(), c.database.pool_size);
  int version = impl_->db->migrate();
  spdlog::info("database {} at schema version {}",
               impl_->db->backend() == store::Backend::sqlite ? "SQLite" : "PostgreSQL", version);

  impl_->bus = event_bus(c, *impl_->db);
  impl_->key_manager = std::make_unique<keymanager::KeyManager>(c, *impl_->db, *impl_->bus);
  impl_->key_manager->initialize();
  // One argon2id verify (~0.1 s), beside the rest of the start.
  auto default_admin = std::async(std::launch::async, [this] {
    return admin_has_default_password(impl_->config, *impl_->key_manager);
  });

  bool all_in_one = impl_->profile == "all-in-one";
  bool with_gateway = all_in_one && c.gateway.enabled;
  if (with_gateway && c.internal_api.password.empty()) {
    // The in-process gateway reads the internal data API like any other gateway; with no
    // password configured, remote gateways stay refused and only this process knows this one.
    c.internal_api.password = crypto::random_token(32);
  }
  auto router = std::make_shared<http::Router>();
  impl_->key_manager->register_routes(*router);
  if (all_in_one) {
    // Control-plane components: construct, initialize and register routes here, in
    // dependency order (admin, then publisher and developer portal).
    impl_->admin = std::make_unique<admin::Admin>(c, *impl_->db, *impl_->bus, *impl_->key_manager);
    impl_->admin->initialize();
    impl_->admin->register_routes(*router);
    impl_->publisher = std::make_unique<publisher::Publisher>(c, *impl_->db, *impl_->bus,
                                                              *impl_->key_manager, *impl_->admin);
    impl_->publisher->register_routes(*router);
    impl_->devportal = std::make_unique<devportal::DevPortal>(c, *impl_->db, *impl_->bus,
                                                              *impl_->key_manager, *impl_->admin);
    impl_->devportal->register_routes(*router);
    if (c.analytics.enabled) {
      analytics::Options a;
      a.data_dir = c.data_dir;
      a.queue_capacity = static_cast<std::size_t>(c.analytics.queue_capacity);
      a.flush_interval_ms = c.analytics.flush_interval_ms;
      a.file_sink_path = c.analytics.file;
      impl_->recorder = std::make_unique<analytics::Recorder>(a, impl_->db.get());
      impl_->recorder->start();
      analytics::register_routes(*router, *impl_->recorder, *impl_->key_manager, *impl_->db);
    }
    portals::install(*router, *impl_->db, c);
  }

  enforce_default_admin_policy(c, default_admin.get());
  auto tls = ensure_tls_material(c.data_dir, c.tls.cert_file, c.tls.key_file,
                                 KeyEncryption(c.security.key_encryption_key));
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
  // The gateway listens before the control plane does: once the control plane answers,
  // the node is fully up (scripts and tests wait for that one signal).
  if (with_gateway) {
    impl_->gateway = std::make_unique<gateway::Gateway>(
        gateway_options(c, tls),
        gateway::in_process_control_plane(router, c.internal_api.username, c.internal_api.password),
        impl_->bus.get(), impl_->recorder.get());
    impl_->gateway->start();
  }
  impl_->server = std::make_unique<http::Server>(options, router);
  impl_->server->start();
  spdlog::info("portico {} ready: https://{}:{} http://{}:{} ({} threads)", impl_->profile,
               c.server.host, impl_->server->https_port(), c.server.host,
               impl_->server->http_port(), options.threads);
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
  auto drain = std::chrono::seconds(impl_->config.server.drain_timeout_seconds);
  if (impl_->gateway) impl_->gateway->stop(drain);
  impl_->server->stop(drain);
  impl_->key_manager->stop_hashing();
  if (impl_->recorder) impl_->recorder->stop();
  spdlog::info("stopped");
  spdlog::default_logger()->flush();
}

}  // namespace portico

#include "gateway/gateway.h"

#include <boost/asio/ssl/context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <filesystem>

#include "analytics/analytics.h"
#include "common/jwt.h"
#include "common/log.h"
#include "common/private_files.h"
#include "gateway/authenticator.h"
#include "gateway/filter_chain.h"
#include "gateway/lease_agent.h"
#include "gateway/miss_lookup.h"
#include "gateway/proxy_session.h"
#include "gateway/snapshot_loader.h"
#include "gateway/snapshot_store.h"
#include "http/server.h"
#include "traffic/traffic.h"

namespace portico::gateway {

namespace {

constexpr std::string_view kBackendJwtKeyFile = "backend-jwt-key.pem";

// Verifies backends' certificates against the system's trust store, as a browser would.
std::unique_ptr<net::ssl::context> make_upstream_tls() {
  auto context = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
  context->set_default_verify_paths();
  context->set_verify_mode(net::ssl::verify_peer);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  return context;
}

// The key that signs X-JWT-Assertion: made on first use, kept in the data directory so that
// backends keep trusting it across restarts. Written 0600 from its creation, sealed when a
// key-encryption key is configured; a plaintext key from before is sealed in place.
jwt::SigningKey backend_jwt_key(const std::string& data_dir, const KeyEncryption& encryption) {
  namespace fs = std::filesystem;
  constexpr std::string_view kContext = "backend-jwt-key";
  std::string path = (fs::path(data_dir) / kBackendJwtKeyFile).string();
  if (fs::exists(path)) {
    std::string stored = read_file(path);
    std::string pem = encryption.open(stored, kContext, "the backend JWT key " + path);
    auto key = jwt::SigningKey::from_private_pem(pem, jwt::Algorithm::RS256, "gateway-backend");
    if (encryption.enabled() && !KeyEncryption::is_sealed(stored))
      write_private_file(path, encryption.seal(pem, kContext));
    return key;
  }
  fs::create_directories(data_dir);
  auto key = jwt::SigningKey::generate(jwt::Algorithm::RS256, "gateway-backend");
  write_private_file(path, encryption.seal(key.private_pem(), kContext));
  return key;
}

}  // namespace

struct Gateway::Impl {
  GatewayOptions options;
  std::unique_ptr<ControlPlane> control_plane;
  events::EventBus* bus = nullptr;
  analytics::Recorder* recorder = nullptr;

  // Declaration order is construction order; the servers go first at destruction (below).
  ControlPlaneWorker worker;
  SnapshotStore store;
  // The loader calls into the authenticator (the snapshot file's JWKS) and the miss lookup
  // into the loader: each is destroyed before what it calls.
  std::unique_ptr<Authenticator> authenticator;
  std::unique_ptr<SnapshotLoader> loader;
  std::unique_ptr<MissLookup> miss_lookup;
  std::unique_ptr<traffic::QuotaLedger> ledger;  // cluster-wide throttling only
  traffic::Throttler throttler;
  std::unique_ptr<LeaseAgent> lease_agent;
  std::optional<jwt::SigningKey> backend_key;
  std::vector<std::unique_ptr<Filter>> chain;
  std::unique_ptr<net::ssl::context> upstream_tls;
  std::unique_ptr<GatewayShared> shared;
  std::unique_ptr<http::Server> admin_server;
  std::unique_ptr<http::Server> server;
  bool started = false;
  bool stopped = false;
  std::atomic<bool> draining{false};  // read by the admin port's thread

  Impl(GatewayOptions o, std::unique_ptr<ControlPlane> cp, events::EventBus* b,
       analytics::Recorder* r)
      : options(std::move(o)),
        control_plane(std::move(cp)),
        bus(b),
        recorder(r),
        ledger(make_ledger(options)),
        throttler(traffic::ThrottlerOptions{options.throttle_counter_slots, ledger.get()}) {
    const TrafficLeaseOptions& t = options.traffic;
    if (!ledger) return;
    LeaseAgentOptions agent{t.gateway_id, std::chrono::milliseconds(t.heartbeat_ms),
                            std::chrono::milliseconds(t.lease_idle_ms), t.breaker_failures,
                            std::chrono::milliseconds(t.breaker_reset_ms)};
    lease_agent = std::make_unique<LeaseAgent>(agent, t.managers, *ledger, throttler);
  }

  static std::unique_ptr<traffic::QuotaLedger> make_ledger(const GatewayOptions& o) {
    if (o.traffic.managers.empty()) return nullptr;
    return std::make_unique<traffic::QuotaLedger>(
        traffic::QuotaLedgerOptions{o.traffic.fail_closed, o.traffic.lease_horizon_ms,
                                    o.traffic.lease_idle_ms, o.throttle_counter_slots});
  }

  std::shared_ptr<http::Router> admin_routes() {
    auto router = std::make_shared<http::Router>();
    router->add("GET", "/health/live",
                [](http::Request&) { return http::Response::json(200, R"({"status":"live"})"); });
    router->add("GET", "/health/ready", [this](http::Request&) {
      if (draining) {
        return http::Response::error(503, 503, "Service Unavailable",
                                     "The gateway is shutting down");
      }
      if (!store.ready()) {
        return http::Response::error(503, 503, "Service Unavailable",
                                     "No configuration snapshot is loaded yet");
      }
      if (lease_agent && !lease_agent->settled()) {
        return http::Response::error(503, 503, "Service Unavailable",
                                     "The spent cluster-wide quotas are not known yet");
      }
      return http::Response::json(200, R"({"status":"ready","snapshotVersion":)" +
                                           std::to_string(store.snapshot()->version) + "}");
    });
    router->add("GET", "/metrics", [this](http::Request&) {
      http::Response response;
      response.headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      if (recorder) {
        recorder->set_snapshot_version(store.snapshot()->version);
        response.body = recorder->prometheus_text();
      }
      std::string gateway_metrics;
      if (miss_lookup) gateway_metrics += miss_lookup->metrics_text();
      if (loader) gateway_metrics += loader->metrics_text();
      if (lease_agent) gateway_metrics += lease_agent->metrics_text();
      // Whether quotas are the cluster's now: 0 without traffic managers (each gateway counts
      // its own) and while none answers (traffic.mode decides).
      gateway_metrics +=
          "# HELP portico_gateway_throttle_cluster_wide Whether quotas are counted cluster-wide "
          "(leased from the traffic managers) or per gateway.\n"
          "# TYPE portico_gateway_throttle_cluster_wide gauge\n"
          "portico_gateway_throttle_cluster_wide " +
          std::string(lease_agent && !lease_agent->stats().circuit_open ? "1" : "0") + "\n";
      response.body += recorder ? recorder->with_node_label(gateway_metrics) : gateway_metrics;
      return response;
    });
    if (backend_key) {
      // Backends verify X-JWT-Assertion with this key set.
      router->add("GET", "/backend-jwt/jwks", [this](http::Request&) {
        return http::Response::json(200, R"({"keys":[)" + backend_key->public_jwk_json() + "]}");
      });
    }
    return router;
  }
};

Gateway::Gateway(GatewayOptions options, std::unique_ptr<ControlPlane> control_plane,
                 events::EventBus* bus, analytics::Recorder* recorder)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(control_plane), bus, recorder)) {}

Gateway::~Gateway() {
  if (impl_->started && !impl_->stopped) stop(std::chrono::seconds(0));
}

void Gateway::start() {
  Impl& impl = *impl_;
  const GatewayOptions& o = impl.options;

  AuthenticatorOptions auth;
  auth.leeway_seconds = o.jwt_leeway_seconds;
  auth.issuer = o.issuer;
  auth.introspection_cache_seconds = o.introspection_cache_seconds;
  impl.store.set_disposer([&worker = impl.worker](std::shared_ptr<const void> held) {
    worker.post([held = std::move(held)]() mutable { held.reset(); });
  });
  impl.authenticator = std::make_unique<Authenticator>(auth, *impl.control_plane, impl.worker);

  LoaderOptions loader;
  loader.environment = o.environment;
  loader.snapshot_file =
      (std::filesystem::path(o.data_dir) / ("gateway-snapshot-" + o.environment + ".json"))
          .string();
  loader.resync_seconds = o.resync_seconds;
  loader.snapshot_write_seconds = o.snapshot_write_seconds;
  loader.force_snapshot = o.force_snapshot;
  loader.issuer = o.issuer;
  loader.current_jwks = [this] { return impl_->authenticator->jwks_document(); };
  loader.on_file_jwks = [this](const std::string& jwks) {
    impl_->authenticator->load_jwks_document(jwks);
  };
  loader.on_user_deleted = [this](const events::Event& event) {
    boost::system::error_code ec;
    auto payload = boost::json::parse(event.payload_json, ec);
    if (ec || !payload.is_object()) return;
    if (auto* user = payload.as_object().if_contains("username"); user && user->is_string())
      impl_->authenticator->forget_user(user->as_string());
  };
  std::filesystem::create_directories(o.data_dir);
  impl.loader =
      std::make_unique<SnapshotLoader>(loader, *impl.control_plane, impl.worker, impl.store);
  // The JWKS first, so that the snapshot file the first pull (maybe a log reset's) writes carries
  // it.
  if (!impl.authenticator->load_jwks()) {
    spdlog::warn(
        "gateway: the Key Manager's JWKS is not reachable yet; tokens are checked once "
        "it is");
  }
  if (impl.bus) {
    impl.bus->subscribe_from(
        {},
        [this](const events::Event& event) {
          impl_->loader->on_event(event);
          if (impl_->lease_agent) impl_->lease_agent->on_event(event);
        },
        [this](const events::LogPosition& position) { impl_->loader->on_log_reset(position); });
  }
  impl.miss_lookup = std::make_unique<MissLookup>(
      MissLookupOptions{std::chrono::seconds(o.miss_lookup_cache_seconds)}, *impl.control_plane,
      impl.worker, [this](const ApplicationRecord& record, const boost::json::value& bundle) {
        impl_->loader->apply_application(record, bundle);
      });
  if (!impl.loader->load_initial()) {
    spdlog::warn("gateway: no configuration yet for environment '{}'; retrying in the background",
                 o.environment);
  }

  if (o.backend_jwt) impl.backend_key = backend_jwt_key(o.data_dir, o.key_encryption);
  ChainOptions chain;
  chain.strip_authorization = o.strip_authorization;
  chain.backend_jwt = o.backend_jwt;
  chain.backend_jwt_header = o.backend_jwt_header;
  impl.chain = build_filter_chain(
      chain, ChainDeps{*impl.authenticator, impl.throttler, impl.recorder,
                       impl.backend_key ? &*impl.backend_key : nullptr, impl.miss_lookup.get()});

  impl.upstream_tls = make_upstream_tls();
  impl.shared = std::make_unique<GatewayShared>(
      GatewayShared{impl.options, impl.store, impl.chain, *impl.upstream_tls});

  http::ServerOptions server;
  server.host = o.host;
  server.http_port = o.http_port;
  server.https_port = o.https_port;
  server.tls_cert_file = o.tls_cert_file;
  server.tls_key_file = o.tls_key_file;
  server.tls_key_pem = o.tls_key_pem;
  server.threads = o.threads;
  // The head scanner refuses a Content-Length over this at once (413); 0 means no limit.
  server.max_body_bytes = o.max_body_bytes > 0 ? static_cast<std::size_t>(o.max_body_bytes)
                                               : std::numeric_limits<std::size_t>::max();
  server.read_timeout = o.read_timeout;
  server.idle_timeout = o.idle_timeout;
  impl.server =
      std::make_unique<http::Server>(server, std::make_shared<ProxySessionStarter>(*impl.shared));

  if (o.admin_port >= 0) {
    http::ServerOptions admin;
    admin.host = o.admin_host;
    admin.http_port = o.admin_port;
    admin.https_port = -1;
    admin.threads = 1;
    impl.admin_server = std::make_unique<http::Server>(admin, impl.admin_routes());
    impl.admin_server->start();
  }
  if (impl.lease_agent) impl.lease_agent->start();
  impl.server->start();
  impl.started = true;
  spdlog::info("gateway '{}' ready: http {} https {} admin {} ({} threads, snapshot {})",
               o.environment, impl.server->http_port(), impl.server->https_port(),
               impl.admin_server ? impl.admin_server->http_port() : -1, o.threads,
               impl.store.snapshot()->version);
}

void Gateway::drain() {
  Impl& impl = *impl_;
  if (!impl.started) return;
  // Not ready before refusing: a balancer that polls readiness stops sending first.
  impl.draining = true;
  impl.server->drain();
}

void Gateway::stop(std::chrono::seconds grace) {
  Impl& impl = *impl_;
  if (!impl.started || impl.stopped) return;
  impl.stopped = true;
  drain();
  impl.server->stop(grace);
  if (impl.lease_agent) impl.lease_agent->stop();
  if (impl.admin_server) impl.admin_server->stop(std::chrono::seconds(0));
}

int Gateway::http_port() const {
  return impl_->server ? impl_->server->http_port() : -1;
}
int Gateway::https_port() const {
  return impl_->server ? impl_->server->https_port() : -1;
}
int Gateway::admin_port() const {
  return impl_->admin_server ? impl_->admin_server->http_port() : -1;
}

traffic::Throttler& Gateway::throttler() {
  return impl_->throttler;
}

}  // namespace portico::gateway

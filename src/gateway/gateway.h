#pragma once
// The API Gateway (data plane): accepts API calls on 8280/8243, authenticates, checks
// subscriptions, throttles, mediates and proxies them to the backends of the APIs deployed to
// its environment, and records analytics. Its configuration comes from the control plane
// (internal data API + events) as immutable snapshots; the request path never blocks.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/backend_address_policy.h"
#include "common/key_encryption.h"
#include "events/event_bus.h"
#include "gateway/control_plane.h"

namespace portico::analytics {
class Recorder;
}

namespace portico::traffic {
class Throttler;
}

namespace portico::gateway {

// Cluster-wide throttling (docs/throttling.md "Gateway leases"): quota leased from traffic
// managers. No managers: per-node counters.
struct TrafficLeaseOptions {
  std::vector<std::shared_ptr<ControlPlane>> managers;  // one per traffic.manager_urls entry
  std::string gateway_id;                               // unique per gateway process
  bool fail_closed = false;                             // traffic.mode
  std::int64_t lease_horizon_ms = 500;
  std::int64_t lease_idle_ms = 1000;
  std::int64_t heartbeat_ms = 2000;
  int breaker_failures = 3;
  std::int64_t breaker_reset_ms = 1000;
};

struct GatewayOptions {
  std::string environment = "Default";
  std::string host = "0.0.0.0";
  int http_port = 8280;   // -1: off; 0: a free port
  int https_port = 8243;  // -1: off; 0: a free port
  int admin_port = 9280;  // /metrics, /health/live, /health/ready; -1: off
  std::string admin_host = "127.0.0.1";
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_key_pem;  // when set, used instead of tls_key_file
  int threads = 1;
  std::int64_t max_body_bytes = 0;                  // 0: no limit (bodies stream)
  std::chrono::seconds read_timeout{60};            // client: head and body inactivity
  std::chrono::seconds idle_timeout{60};            // client keep-alive
  std::size_t max_idle_upstream_per_endpoint = 64;  // pooled keep-alive connections per thread
  std::chrono::seconds upstream_idle_timeout{30};
  bool strip_authorization = true;
  bool backend_jwt = false;
  std::string backend_jwt_header = "X-JWT-Assertion";
  std::string data_dir = "data";  // snapshot file, backend JWT key
  KeyEncryption key_encryption;   // seals the backend JWT key at rest when enabled
  std::string issuer;             // expected `iss` of access tokens; "" accepts any
  std::int64_t jwt_leeway_seconds = 60;
  std::int64_t introspection_cache_seconds = 900;
  std::size_t throttle_counter_slots = 65536;
  // A credential or subscription the snapshot does not know is asked of the control plane
  // once; one it does not know either is refused without asking for this long.
  std::int64_t miss_lookup_cache_seconds = 5;
  int resync_seconds = 300;        // full re-pull even without events; 0: never
  int snapshot_write_seconds = 5;  // changes reach the snapshot file at most this often
  bool force_snapshot = false;     // accept a pull from another cluster or one emptying it
  // Checked on the resolved address of every new backend connection; null: any address.
  std::shared_ptr<const BackendAddressPolicy> backend_policy;
  TrafficLeaseOptions traffic;
};

class Gateway {
 public:
  // `bus` may be null (no events: periodic resync only); `recorder` may be null (no analytics).
  Gateway(GatewayOptions options, std::unique_ptr<ControlPlane> control_plane,
          events::EventBus* bus, analytics::Recorder* recorder);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Loads the first snapshot (control plane, else the snapshot file), then listens. Serving
  // starts even without a snapshot; /health/ready says 503 until one is loaded.
  void start();
  // Starts draining and returns at once (the node calls it on SIGTERM): /health/ready answers
  // 503 from now on, the listeners close so that new connections are refused, connections
  // idle between requests close, and every response says Connection: close
  // (http::Server::drain). Call after start(); later calls do nothing.
  void drain();
  // Drains (unless drain() already began), lets in-flight requests finish for at most `grace`,
  // cuts what is left, then closes the admin port.
  void stop(std::chrono::seconds grace);

  int http_port() const;
  int https_port() const;
  int admin_port() const;

  // The gateway's throttling counters, from construction on. The gateway has no database by
  // design; a node that has one (all-in-one) keeps their long windows for it: it restores
  // them before start() and flushes them while the gateway serves.
  traffic::Throttler& throttler();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::gateway

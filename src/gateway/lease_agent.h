#pragma once
// Internal to src/gateway: the gateway's side of cluster-wide throttling. One thread leases
// quota from the traffic managers in batches, ahead of need, so that the request path never
// waits on one (docs/throttling.md "Gateway leases").
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "events/event_bus.h"
#include "gateway/control_plane.h"
#include "traffic/traffic.h"

namespace portico::gateway {

struct LeaseAgentOptions {
  std::string gateway_id;  // the membership name: unique per gateway process
  std::chrono::milliseconds heartbeat{2000};
  std::chrono::milliseconds lease_idle{1000};  // idle leases are looked for twice as often
  int breaker_failures = 3;                    // failed calls in a row that open the circuit
  std::chrono::milliseconds breaker_reset{1000};
};

// Sends the ledger's asks (counters that want more, overdraft, idle returns) to the first
// traffic manager that answers, in calls of at most 1,000 counters; heartbeats; keeps a
// circuit breaker (open: the ledger falls back to traffic.mode, and the first call that
// succeeds again reports what was admitted meanwhile); reads the throttled list at start and
// whenever the circuit closes; applies throttle.exhausted events.
class LeaseAgent {
 public:
  // `managers`: one client per traffic manager URL, in the configured order.
  LeaseAgent(LeaseAgentOptions options, std::vector<std::shared_ptr<ControlPlane>> managers,
             traffic::QuotaLedger& ledger, const traffic::Throttler& throttler);
  ~LeaseAgent();  // stops the thread
  LeaseAgent(const LeaseAgent&) = delete;
  LeaseAgent& operator=(const LeaseAgent&) = delete;

  void start();
  void stop();
  // An event of the gateway's bus; acts on throttle.exhausted only. Quick: any thread.
  void on_event(const events::Event& event);

  // Whether the gateway may serve: it has read which counters are spent (so that a gateway
  // started after a quota ran out does not admit its first call on credit), or found no
  // traffic manager (then traffic.mode decides).
  bool settled() const;

  struct Stats {
    std::uint64_t calls_ok = 0;
    std::uint64_t calls_failed = 0;
    bool circuit_open = false;
  };
  Stats stats() const;
  // Prometheus text: lease calls, counters leased, fallback, members, refused as spent.
  std::string metrics_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::gateway

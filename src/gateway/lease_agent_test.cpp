// The lease agent against a small traffic manager that speaks the lease protocol over real
// sockets and JSON (docs/throttling.md "Gateway leases").
#include "gateway/lease_agent.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "events/event_types.h"
#include "http/server.h"

namespace portico::gateway {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// Logs are quiet: the other tests of this binary register that environment.

// A traffic manager of one counter pool: grants what is asked while its limit lasts.
class FakeTrafficManager {
 public:
  explicit FakeTrafficManager(std::int64_t limit) : limit_(limit) {
    auto router = std::make_shared<http::Router>();
    router->add("POST", "/internal/traffic/v1/leases", http::BodyType::json,
                [this](http::Request& r) { return leases(r); });
    router->add("GET", "/internal/traffic/v1/throttled",
                [this](http::Request& r) { return throttled(r); });
    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.http_port = 0;
    options.threads = 1;
    server_ = std::make_unique<http::Server>(options, router);
    server_->start();
  }
  ~FakeTrafficManager() { server_->stop(1s); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->http_port()); }

  std::atomic<bool> unavailable{false};  // answers 503 900809
  std::atomic<int> members{3};
  std::atomic<bool> spent{false};  // every counter spent, as after a throttle.exhausted
  std::string throttled_json = "[]";

  struct Seen {
    int lease_calls = 0;
    int heartbeats = 0;
    int throttled_reads = 0;
    std::int64_t overdraft = 0;
    std::int64_t returned = 0;
    std::int64_t reserved = 0;
    std::string gateway;
    std::string key;  // of the last counter asked about
    std::int64_t window_ms = 0;
    std::int64_t window = 0;
  };
  Seen seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  bool authorized(const http::Request& r) const {
    return r.headers.get("Authorization").value_or("") ==
           "Basic " + crypto::base64_encode("gw:s3cret");
  }

  http::Response leases(http::Request& r) {
    if (!authorized(r)) return http::Response::error(401, 900901, "Invalid Credentials", "");
    if (unavailable) return http::Response::error(503, 900809, "Throttling unavailable", "");
    json::value body = json::parse(r.body);
    std::lock_guard lock(mutex_);
    ++seen_.lease_calls;
    seen_.gateway = std::string(body.at("gateway").as_string());
    json::array out;
    const json::array& counters = body.at("counters").as_array();
    if (counters.empty()) ++seen_.heartbeats;
    for (const json::value& v : counters) {
      const json::object& c = v.as_object();
      std::int64_t overdraft = c.at("overdraft").to_number<std::int64_t>();
      std::int64_t give_back = c.at("return").to_number<std::int64_t>();
      seen_.overdraft += overdraft;
      seen_.returned += give_back;
      seen_.reserved = std::max<std::int64_t>(0, seen_.reserved + overdraft - give_back);
      std::int64_t remaining = spent ? 0 : limit_ - seen_.reserved;
      std::int64_t granted =
          std::max<std::int64_t>(0, std::min(c.at("want").to_number<std::int64_t>(), remaining));
      seen_.reserved += granted;
      std::int64_t window_ms = c.at("window_ms").to_number<std::int64_t>();
      std::int64_t window = c.at("window").to_number<std::int64_t>();
      seen_.key = std::string(c.at("key").as_string());
      seen_.window_ms = window_ms;
      seen_.window = window;
      out.push_back(json::object{
          {"key", c.at("key")},
          {"window_ms", window_ms},
          {"window", window},
          {"granted", granted},
          {"reserved", seen_.reserved},
          {"until", spent || seen_.reserved >= limit_ ? (window + 1) * window_ms : 0}});
    }
    return http::Response::json(
        200, json::serialize(json::object{{"members", members.load()}, {"counters", out}}));
  }

  http::Response throttled(http::Request& r) {
    if (!authorized(r)) return http::Response::error(401, 900901, "Invalid Credentials", "");
    if (unavailable) return http::Response::error(503, 900809, "Throttling unavailable", "");
    std::lock_guard lock(mutex_);
    ++seen_.throttled_reads;
    return http::Response::json(200, R"({"members":)" + std::to_string(members.load()) +
                                         R"(,"throttled":)" + throttled_json + "}");
  }

  std::int64_t limit_;
  std::mutex mutex_;
  Seen seen_;
  std::unique_ptr<http::Server> server_;
};

// An hour's window: a test does not straddle the end of one.
std::shared_ptr<const traffic::PolicySet> api_policy(std::int64_t per_hour) {
  std::string advanced =
      R"([{"policyName":"Api","defaultLimit":{"type":"REQUESTCOUNTLIMIT","requestCount":)"
      R"({"timeUnit":"hour","unitTime":1,"requestCount":)" +
      std::to_string(per_hour) + "}}}]";
  return traffic::PolicySet::build(json::array{}, json::array{}, json::parse(advanced).as_array(),
                                   json::array{}, nullptr);
}

// Polls `condition` for a while: the agent works on its own thread.
template <class F>
bool eventually(F condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

// One gateway's throttler, ledger and agent, leasing from `urls`.
struct LeasingGateway {
  LeasingGateway(const std::vector<std::string>& urls,
                 traffic::QuotaLedgerOptions ledger_options = {})
      : ledger(ledger_options),
        throttler(traffic::ThrottlerOptions{1024, &ledger}),
        policies(api_policy(1000)) {
    std::vector<std::shared_ptr<ControlPlane>> managers;
    for (const auto& url : urls)
      managers.push_back(http_control_plane(url, "gw", "s3cret", true, {}, 500ms));
    agent = std::make_unique<LeaseAgent>(LeaseAgentOptions{"gw-1", 50ms, 200ms, 2, 50ms},
                                         std::move(managers), ledger, throttler);
    agent->start();
  }
  ~LeasingGateway() { agent->stop(); }

  traffic::ThrottleDecision call() {
    traffic::ThrottleRequest r;
    r.client_ip = "192.0.2.10";
    r.api_id = "api-1";
    r.api_context_version = "/pets/1.0.0";
    r.api_policy = "Api";
    r.now_ms = unix_now_ms();
    return throttler.decide(*policies, r);
  }
  int admitted(int attempts) {
    int n = 0;
    for (int i = 0; i < attempts; ++i) n += call().allowed ? 1 : 0;
    return n;
  }

  traffic::QuotaLedger ledger;
  traffic::Throttler throttler;
  std::shared_ptr<const traffic::PolicySet> policies;
  std::unique_ptr<LeaseAgent> agent;
};

TEST(LeaseAgent, HeartbeatsWithTheInternalCredentialAndReadsTheThrottledList) {
  FakeTrafficManager tm(1000);
  LeasingGateway gw({tm.url()});
  EXPECT_TRUE(eventually([&] { return tm.seen().heartbeats >= 2; }));
  EXPECT_EQ(tm.seen().gateway, "gw-1");
  EXPECT_GE(tm.seen().throttled_reads, 1);
  EXPECT_EQ(gw.ledger.stats().members, 3);
  auto metrics = gw.agent->metrics_text();
  EXPECT_NE(metrics.find("portico_gateway_traffic_members 3"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("portico_gateway_throttle_fallback 0"), std::string::npos);
}

TEST(LeaseAgent, LeasesQuotaTheThrottlerThenAdmits) {
  FakeTrafficManager tm(1000);
  LeasingGateway gw({tm.url()});
  EXPECT_TRUE(gw.call().allowed);  // the window's credit
  // The credit's ask reports it and brings a grant; requests are admitted on it.
  EXPECT_TRUE(eventually([&] { return tm.seen().overdraft >= 1 && tm.seen().reserved > 1; }));
  EXPECT_TRUE(gw.call().allowed);
}

TEST(LeaseAgent, TheClusterAdmitsNoMoreThanItsLimit) {
  FakeTrafficManager tm(50);
  LeasingGateway gw({tm.url()});
  int admitted = 0;
  // Drives the counter until the traffic manager says it is spent.
  eventually([&] {
    admitted += gw.admitted(20);
    return tm.seen().reserved >= 50 && gw.call().allowed == false;
  });
  admitted += gw.admitted(100);
  EXPECT_LE(admitted, 50);
  EXPECT_GE(admitted, 45);
  EXPECT_GT(gw.ledger.stats().refused_spent, 0u);
}

TEST(LeaseAgent, FailsOverToTheNextTrafficManager) {
  FakeTrafficManager tm(1000);
  std::string unreachable;
  {
    FakeTrafficManager gone(1);  // a port that was just closed
    unreachable = gone.url();
  }
  LeasingGateway gw({unreachable, tm.url()});
  EXPECT_TRUE(eventually([&] { return tm.seen().heartbeats >= 1; }));
  EXPECT_FALSE(gw.agent->stats().circuit_open);
}

TEST(LeaseAgent, AnOpenCircuitFallsBackAndReportsWhatWasAdmittedWhenItCloses) {
  FakeTrafficManager tm(1000);
  tm.unavailable = true;
  LeasingGateway gw({tm.url()});
  EXPECT_TRUE(eventually([&] { return gw.ledger.stats().fallback; }));
  EXPECT_NE(gw.agent->metrics_text().find("portico_gateway_throttle_fallback 1"),
            std::string::npos);
  // Fail-open: limit / members, the last known members being 1.
  int admitted = gw.admitted(1200);
  EXPECT_EQ(admitted, 1000);
  tm.unavailable = false;
  EXPECT_TRUE(eventually([&] { return !gw.ledger.stats().fallback; }));
  EXPECT_TRUE(eventually([&] { return tm.seen().overdraft >= 1000; }));
  // And the throttled list is read again, after the call that closed the circuit.
  EXPECT_TRUE(eventually([&] { return tm.seen().throttled_reads >= 1; }));
}

TEST(LeaseAgent, FailClosedRefusesWith503OnceItsLeasesAreSpent) {
  FakeTrafficManager tm(1000);
  tm.unavailable = true;
  LeasingGateway gw({tm.url()}, traffic::QuotaLedgerOptions{.fail_closed = true});
  EXPECT_TRUE(eventually([&] { return gw.ledger.stats().fallback; }));
  auto d = gw.call();
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.status, 503);
  EXPECT_EQ(d.code, 900809);
}

TEST(LeaseAgent, AThrottleExhaustedEventRefusesTheCounterWithoutAsking) {
  FakeTrafficManager tm(1000);
  LeasingGateway gw({tm.url()});
  EXPECT_TRUE(gw.call().allowed);
  EXPECT_TRUE(eventually([&] { return tm.seen().overdraft >= 1; }));
  // The counter as this gateway names it on the wire, spent as a traffic manager announces it.
  auto seen = tm.seen();
  events::Event event;
  event.type = std::string(events::types::kThrottleExhausted);
  event.payload_json = json::serialize(json::object{{"key", seen.key},
                                                    {"window_ms", seen.window_ms},
                                                    {"window", seen.window},
                                                    {"until", (seen.window + 1) * seen.window_ms}});
  tm.spent = true;  // as the traffic manager that announced it answers from now on
  gw.agent->on_event(event);
  // What this gateway still holds of its lease is spent, then it refuses without asking.
  EXPECT_TRUE(eventually([&] { return !gw.call().allowed; }));
  EXPECT_GT(gw.ledger.stats().refused_spent, 0u);
}

}  // namespace
}  // namespace portico::gateway

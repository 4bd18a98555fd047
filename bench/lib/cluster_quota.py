"""bench/cluster's quota part: cluster-wide throttling through the traffic managers.

  bound       admitted / limit per window with 1, 2 and 3 gateways running, the load spread
              evenly over them or all on one, driven at 3 L a window (a 10-second window, so
              that the part takes minutes, not hours; leases do not depend on the length)
  cost        wrk through nginx on a subscription whose quota is leased (a limit too large
              to reach) against one whose tier is Unlimited (no counter at all): the
              throughput ratio (target >= 0.95x), traffic-manager calls per 1,000 gateway
              requests and Redis commands a second during the leased run
"""
import subprocess
import threading
import time
import uuid

import requests

import local_cluster
import wrk

DEV = "/api/am/devportal/v3"
ADMIN = "/api/am/admin/v4"
LEASE_CALLS_METRIC = "portico_gateway_lease_calls_total"
WINDOW_SECONDS = 10
LIMIT = 300  # requests a window
WINDOWS_PER_RUN = 3


def subscription_tier(front, count, unit="min", unit_time=1):
    return front.check(front.s.post(front.cp + ADMIN + "/throttling/policies/subscription", json={
        "policyName": "bench" + uuid.uuid4().hex[:8], "stopOnQuotaReach": True,
        "defaultLimit": {"type": "REQUESTCOUNTLIMIT", "requestCount": {
            "timeUnit": unit, "unitTime": unit_time, "requestCount": count}}}))["policyName"]


def allow_tier(front, api_id, tier):
    """Offers the tier on the API, so that applications may subscribe with it."""
    pub = "/api/am/publisher/v4"
    api = front.check(front.s.get(front.cp + pub + f"/apis/{api_id}"))
    api["policies"] = sorted(set(api.get("policies", [])) | {tier})
    front.check(front.s.put(front.cp + pub + f"/apis/{api_id}", json=api))


def subscribed_token(front, api_id, tier):
    app = front.check(front.s.post(front.cp + DEV + "/applications", json={
        "name": "quota-" + uuid.uuid4().hex[:10], "throttlingPolicy": "Unlimited"}))
    front.check(front.s.post(front.cp + DEV + "/subscriptions", json={
        "applicationId": app["applicationId"], "apiId": api_id, "throttlingPolicy": tier}))
    keys = front.check(front.s.post(
        front.cp + DEV + f"/applications/{app['applicationId']}/generate-keys",
        json={"keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials"]}))
    return {"Authorization": f"Bearer {front.token(keys['consumerKey'], keys['consumerSecret'])}"}


def paced(urls, headers, rate, until, admitted):
    """One thread per url, `rate` calls a second in all; admitted send times go to
    `admitted`."""
    def run(url):
        s = requests.Session()
        interval = len(urls) / rate
        next_at = time.time()
        while time.time() < until:
            sent = time.time()
            try:
                if s.get(url, headers=headers, timeout=5).status_code == 200:
                    admitted.append(sent)
            except requests.RequestException:
                pass
            next_at += interval
            time.sleep(max(0.0, next_at - time.time()))
    threads = [threading.Thread(target=run, args=(u,)) for u in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def bound(front, directory, api_id, gateways, path):
    tier = subscription_tier(front, LIMIT, "sec", WINDOW_SECONDS)
    allow_tier(front, api_id, tier)
    print(f"quota bound: limit {LIMIT} per {WINDOW_SECONDS} s window, driven at 3 L, "
          f"{WINDOWS_PER_RUN} whole windows a run; admitted / limit (min .. max)")
    for name in gateways[1:]:
        local_cluster.stop_node(directory, name)
    for count in (1, 2, 3):
        if count > 1:
            front.endpoints = local_cluster.start_node(directory, gateways[count - 1])
        running = gateways[:count]
        spreads = [("even", running)] + ([("all on gw1", ["gw1"] * count)] if count > 1 else [])
        for label, targets in spreads:
            headers = subscribed_token(front, api_id, tier)
            for name in running:  # every gateway knows the subscription before the clock runs
                wait_200(front.gateway(name) + path, headers)
            first = (time.time() // WINDOW_SECONDS + 1) * WINDOW_SECONDS
            admitted = []
            paced([front.gateway(n) + path for n in targets], headers,
                  3 * LIMIT / WINDOW_SECONDS, first + WINDOWS_PER_RUN * WINDOW_SECONDS,
                  admitted)
            ratios = [sum(1 for t in admitted if w <= t < w + WINDOW_SECONDS) / LIMIT
                      for w in (first + i * WINDOW_SECONDS for i in range(WINDOWS_PER_RUN))]
            verdict = "within" if all(0.98 <= r <= 1.02 for r in ratios) else "OUTSIDE"
            print(f"  {count} gateway{'s' if count > 1 else ' '} {label:11} "
                  f"{min(ratios):.3f} .. {max(ratios):.3f}  ({verdict} +-2 %)")


def wait_200(url, headers, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if requests.get(url, headers=headers, timeout=5).status_code == 200:
            return
        time.sleep(0.05)
    raise SystemExit(f"GET {url}: no 200 within {timeout} s")


def lease_calls(front, gateways):
    total = 0.0
    for name in gateways:
        port = front.endpoints[f"PORTICO_NODE_{name}_ADMIN"]
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        for line in text.splitlines():
            if line.startswith(LEASE_CALLS_METRIC):
                total += float(line.rsplit(" ", 1)[1])
    return total


def redis_commands(front):
    out = subprocess.run(["redis-cli", "-p", front.endpoints["PORTICO_NODE_redis_PORT"], "INFO",
                          "stats"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("total_commands_processed:"):
            return int(line.split(":", 1)[1])
    raise SystemExit("redis INFO stats has no total_commands_processed")


def cost(front, api_id, gateways, path, duration, unlimited_headers):
    tier = subscription_tier(front, 1_000_000_000)
    allow_tier(front, api_id, tier)
    leased_headers = subscribed_token(front, api_id, tier)
    for name in gateways:
        wait_200(front.gateway(name) + path, leased_headers)
    url = front.gw_http + path
    hdr = lambda h: [f"{k}: {v}" for k, v in h.items()]  # noqa: E731
    wrk.run(url, 32, "2s", headers=hdr(unlimited_headers))
    # Off and on alternate, twice: figures on this machine drift between runs.
    offs, ons, calls, commands, elapsed = [], [], 0.0, 0, 0.0
    for _ in range(2):
        offs.append(wrk.run(url, 32, duration, headers=hdr(unlimited_headers)))
        calls_before, commands_before, began = lease_calls(front, gateways), \
            redis_commands(front), time.monotonic()
        ons.append(wrk.run(url, 32, duration, headers=hdr(leased_headers)))
        elapsed += time.monotonic() - began
        calls += lease_calls(front, gateways) - calls_before
        commands += redis_commands(front) - commands_before
    off = max(offs, key=lambda r: r.rps)
    on = max(ons, key=lambda r: r.rps)
    ratio = on.rps / off.rps
    print(f"quota cost (wrk -c32 through nginx, {len(gateways)} gateways, {duration}, the "
          f"better of two runs each, alternating):")
    print(f"  tier Unlimited (no counter) {off.rps:,.0f} req/s p99 {off.p99_us / 1000:.2f} ms; "
          f"leased tier {on.rps:,.0f} req/s p99 {on.p99_us / 1000:.2f} ms: "
          f"{ratio:.2f}x (target >= 0.95x: {'met' if ratio >= 0.95 else 'MISSED'})")
    print(f"  traffic-manager calls per 1,000 gateway requests: "
          f"{1000 * calls / max(1, sum(r.requests for r in ons)):.2f} ({calls:.0f} calls, "
          f"heartbeats included); "
          f"Redis commands a second: {commands / elapsed:,.0f}")

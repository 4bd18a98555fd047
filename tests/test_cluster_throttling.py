"""Cluster-wide throttling on pattern 3 (two traffic managers, three gateways, Redis,
PostgreSQL, nginx): the bound both ways, a traffic manager killed mid-window, Redis down in
each mode and reconciled afterwards, and a day quota that outlives a Redis restart.

Windows are the reference's per-minute (and hour, day) windows aligned to the epoch: the bound
is measured over one whole minute, so the module takes a few minutes; each scenario that needs
a whole window runs beside the others in the same one.
"""

from __future__ import annotations

import shutil
import signal
import threading
import time
from dataclasses import dataclass, field

import pytest
import requests

from cluster_support import Cluster, local_cluster, start_cluster
from gateway_support import Backend, Caller, create_policy, error_code, publish_api, request_limit
from gateway_support import wait_for

PATTERN = "3-distributed"
GATEWAYS = ["gw1", "gw2", "gw3"]
LIMIT = 600  # requests a minute, for the bound
BOUND = 0.02  # admitted within ±2 % of the limit
PROPAGATION_SECONDS = 15


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    directory, endpoints = start_cluster(tmp_path_factory, PATTERN)
    yield Cluster(directory, endpoints)
    local_cluster.down(directory, purge=True)


@pytest.fixture(scope="module")
def backend():
    b = Backend("throttled")
    yield b
    b.close()


def everywhere(cluster: Cluster, path: str, headers: dict) -> None:
    """Waits until every gateway answers 200 for the call (it knows the API, the
    subscription and the token)."""
    for name in GATEWAYS:
        url = cluster.gateway_url(name) + path
        wait_for(lambda: requests.get(url, headers=headers, timeout=10).status_code == 200,
                 timeout=PROPAGATION_SECONDS, interval=0.1)


@dataclass
class Subscriber:
    """One counter of the cluster: an application's token for one API's path."""
    path: str
    headers: dict


def subscriber(cluster: Cluster, api: dict, tier: str = "Unlimited",
               headers: dict | None = None) -> Subscriber:
    caller = Caller(cluster.front)
    caller.subscribe(api, tier)
    result = Subscriber(f"{api['context']}/1.0.0/items",
                        {"Authorization": f"Bearer {caller.token()}", **(headers or {})})
    everywhere(cluster, result.path, result.headers)
    return result


@dataclass
class Drive:
    """Calls at `rate` a second in all, spread evenly over `targets` (gateway base URLs,
    repeated for a skew), until stopped; keeps (send time, status, code) of each."""
    targets: list[str]
    who: Subscriber
    rate: float
    calls: list[tuple[float, int, int]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> "Drive":
        self.threads = [threading.Thread(target=self._run, args=(t,)) for t in self.targets]
        for thread in self.threads:
            thread.start()
        return self

    def _run(self, base: str) -> None:
        interval = len(self.targets) / self.rate
        session = requests.Session()
        next_at = time.time()
        while not self.stopping.is_set():
            next_at += interval
            sent = time.time()
            try:
                response = session.get(base + self.who.path, headers=self.who.headers,
                                       timeout=10)
                code = error_code(response) if response.status_code != 200 else 0
                self.calls.append((sent, response.status_code, code))
            except requests.RequestException:
                self.calls.append((sent, 0, 0))
            time.sleep(max(0.0, next_at - time.time()))

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def admitted_in(self, window_start: float, window: float = 60.0) -> int:
        return sum(1 for sent, status, _ in self.calls
                   if status == 200 and window_start <= sent < window_start + window)

    def statuses(self) -> set[int]:
        return {status for _, status, _ in self.calls}


def whole_window_ahead(window: float = 60.0) -> tuple[float, float]:
    """The next window that starts at least two seconds from now: (start, end)."""
    start = (time.time() + 2) // window * window + window
    return start, start + window


def drive_through_a_whole_window(cluster: Cluster, drives: list[Drive], during=None) -> float:
    """Runs the drives from now to the end of the next whole minute; `during(start)` is
    called once the window has run 20 s. Returns the window's start."""
    start, end = whole_window_ahead()
    for d in drives:
        d.start()
    try:
        if during:
            time.sleep(max(0.0, start + 20 - time.time()))
            during(start)
        time.sleep(max(0.0, end + 0.5 - time.time()))
    finally:
        for d in drives:
            d.stop()
    return start


def assert_within_bound(name: str, admitted: int, limit: int = LIMIT) -> None:
    print(f"{name}: {admitted} admitted of {limit} ({admitted / limit:.3f})")
    assert (1 - BOUND) * limit <= admitted <= (1 + BOUND) * limit, (
        f"{name}: {admitted} admitted in one window for a limit of {limit}")


def gateway_urls(cluster: Cluster, names: list[str]) -> list[str]:
    return [cluster.gateway_url(n) for n in names]


def test_the_cluster_admits_the_limit_within_two_percent_evenly_and_skewed(cluster, backend):
    front = cluster.front
    tier = create_policy(front, "subscription", request_limit(LIMIT), stopOnQuotaReach=True)
    gold = {"description": "gold callers", "limit": request_limit(LIMIT),
            "conditions": [{"type": "HEADERCONDITION", "invertCondition": False,
                            "headerCondition": {"headerName": "X-Tier", "headerValue": "gold"}}]}
    advanced = create_policy(front, "advanced", request_limit(2147483647),
                             conditionalGroups=[gold])
    tiered = publish_api(front, backend.url, policies=[tier["policyName"], "Unlimited"])
    even_api = publish_api(front, backend.url, apiThrottlingPolicy=advanced["policyName"])
    skewed_api = publish_api(front, backend.url, apiThrottlingPolicy=advanced["policyName"])
    gold_header = {"X-Tier": "gold"}
    rate = 3 * LIMIT / 60
    drives = {
        "subscription tier, even": Drive(gateway_urls(cluster, GATEWAYS),
                                         subscriber(cluster, tiered, tier["policyName"]), rate),
        "subscription tier, all on gw1": Drive(gateway_urls(cluster, ["gw1"] * 3),
                                               subscriber(cluster, tiered, tier["policyName"]),
                                               rate),
        "advanced policy with a header condition, even": Drive(
            gateway_urls(cluster, GATEWAYS), subscriber(cluster, even_api, headers=gold_header),
            rate),
        "advanced policy with a header condition, all on gw1": Drive(
            gateway_urls(cluster, ["gw1"] * 3),
            subscriber(cluster, skewed_api, headers=gold_header), rate),
    }
    start = drive_through_a_whole_window(cluster, list(drives.values()))
    for name, drive in drives.items():
        assert drive.statuses() <= {200, 429}, f"{name}: {drive.statuses()}"
        assert_within_bound(name, drive.admitted_in(start))
    refused = {code for d in drives.values() for _, status, code in d.calls if status == 429}
    assert refused == {900804, 900800}


def test_a_traffic_manager_killed_mid_window_leaves_the_limit_within_the_bound(cluster,
                                                                               backend):
    front = cluster.front
    tier = create_policy(front, "subscription", request_limit(LIMIT), stopOnQuotaReach=True)
    api = publish_api(front, backend.url, policies=[tier["policyName"], "Unlimited"])
    drive = Drive(gateway_urls(cluster, GATEWAYS), subscriber(cluster, api, tier["policyName"]),
                  3 * LIMIT / 60)
    try:
        start = drive_through_a_whole_window(
            cluster, [drive], during=lambda _: cluster.stop("tm1", signal.SIGKILL))
    finally:
        cluster.start("tm1")
    assert drive.statuses() <= {200, 429}, drive.statuses()
    assert_within_bound("tm1 killed 20 s into the window", drive.admitted_in(start))


# ---- Redis down -----------------------------------------------------------------------------

HOURLY = 30  # requests an hour: 10 a gateway while the traffic managers cannot count


def metric(cluster: Cluster, name: str, gateway: str) -> float:
    text = requests.get(cluster.admin_url(gateway) + "/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{gateway} /metrics has no {name}")


def wait_for_fallback(cluster: Cluster, names: list[str], on: bool) -> None:
    """Until the gateways' metrics say they count per gateway (on) or cluster-wide again."""
    wait_for(lambda: all(metric(cluster, "portico_gateway_throttle_fallback", n) == (1 if on else 0)
                         and metric(cluster, "portico_gateway_throttle_cluster_wide", n) ==
                         (0 if on else 1) for n in names),
             timeout=PROPAGATION_SECONDS, interval=0.2)


def clear_of_the_hour(margin: float = 120.0) -> None:
    """Sleeps past the top of the hour when it is closer than `margin` seconds."""
    remaining = 3600 - time.time() % 3600
    if remaining < margin:
        time.sleep(remaining + 1)


def calls(cluster: Cluster, name: str, who: Subscriber, count: int) -> list[requests.Response]:
    session = requests.Session()
    return [session.get(cluster.gateway_url(name) + who.path, headers=who.headers, timeout=10)
            for _ in range(count)]


def test_with_redis_down_fail_open_counts_l_over_n_per_gateway_and_reconciles_after(
        cluster, backend):
    front = cluster.front
    tier = create_policy(front, "subscription", request_limit(HOURLY, "hour"),
                         stopOnQuotaReach=True)
    api = publish_api(front, backend.url, policies=[tier["policyName"], "Unlimited"])
    clear_of_the_hour()
    who = subscriber(cluster, api, tier["policyName"])  # one call admitted on each gateway
    admitted = len(GATEWAYS)
    cluster.stop("redis", signal.SIGKILL)
    try:
        wait_for_fallback(cluster, GATEWAYS, on=True)
        for name in GATEWAYS:
            answers = calls(cluster, name, who, HOURLY // len(GATEWAYS) + 5)
            statuses = {r.status_code for r in answers}
            # Fail-open: never a 5xx, never 401/403; each gateway admits its L/N share.
            assert statuses <= {200, 429}, statuses
            here = sum(r.status_code == 200 for r in answers)
            assert 1 <= here <= HOURLY // len(GATEWAYS), (name, here)
            admitted += here
    finally:
        cluster.start("redis")
    wait_for_fallback(cluster, GATEWAYS, on=False)
    # The traffic managers now hold what was admitted while they could not count: what is
    # left of the hour is what the outage did not spend, not a fresh quota.
    after = sum(r.status_code == 200 for name in GATEWAYS for r in calls(cluster, name, who, 10))
    print(f"admitted before and during the outage {admitted}, after {after}, limit {HOURLY}")
    assert admitted + after <= HOURLY + len(GATEWAYS)
    assert after <= max(0, HOURLY - admitted) + len(GATEWAYS)


def set_traffic_mode(cluster: Cluster, name: str, mode: str) -> None:
    """Rewrites the gateway's [traffic] mode and restarts it."""
    config = cluster.endpoints[f"PORTICO_NODE_{name}_CONFIG"]
    with open(config) as f:
        text = f.read()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("mode = "))
    text = text.replace("[traffic]\n", f'[traffic]\nmode = "{mode}"\n')
    with open(config, "w") as f:
        f.write(text + "\n")
    cluster.stop(name)
    cluster.start(name)


def test_with_redis_down_fail_closed_refuses_with_503_and_serves_again_after(cluster, backend):
    front = cluster.front
    tier = create_policy(front, "subscription", request_limit(HOURLY, "hour"),
                         stopOnQuotaReach=True)
    api = publish_api(front, backend.url, policies=[tier["policyName"], "Unlimited"])
    set_traffic_mode(cluster, "gw3", "fail-closed")
    try:
        clear_of_the_hour()
        who = subscriber(cluster, api, tier["policyName"])
        cluster.stop("redis", signal.SIGKILL)
        try:
            wait_for_fallback(cluster, ["gw3"], on=True)
            # What gw3 was granted it may spend; beyond that it refuses, saying why.
            answers = calls(cluster, "gw3", who, HOURLY)
            refused = [r for r in answers if r.status_code != 200]
            assert refused, "fail-closed admitted every call with no traffic manager"
            for r in refused:
                assert r.status_code == 503, r.text
                assert error_code(r) == 900809
                assert r.json()["message"] == "Throttling unavailable"
            # The fail-open gateways beside it keep serving.
            assert calls(cluster, "gw1", who, 1)[0].status_code == 200
        finally:
            cluster.start("redis")
        wait_for_fallback(cluster, ["gw3"], on=False)
        assert calls(cluster, "gw3", who, 1)[0].status_code == 200
    finally:
        set_traffic_mode(cluster, "gw3", "fail-open")


def test_a_day_quota_spent_stays_spent_across_a_redis_restart_that_lost_its_data(cluster,
                                                                                backend):
    front = cluster.front
    daily = 5
    tier = create_policy(front, "subscription", request_limit(daily, "day"),
                         stopOnQuotaReach=True)
    api = publish_api(front, backend.url, policies=[tier["policyName"], "Unlimited"])
    who = subscriber(cluster, api, tier["policyName"])

    def spent():
        answer = calls(cluster, "gw1", who, 1)[0]
        return answer.status_code == 429 and error_code(answer) == 900804
    wait_for(spent, timeout=PROPAGATION_SECONDS, interval=0.1)
    time.sleep(2.5)  # the traffic managers flush long windows every second (pattern 3)
    cluster.stop("redis", signal.SIGKILL)
    shutil.rmtree(cluster.directory / "redis")  # its append-only file: every counter is gone
    cluster.start("redis")
    throttled = requests.get(
        f"https://localhost:{cluster.endpoints['PORTICO_NODE_tm1_HTTPS']}"
        "/internal/traffic/v1/throttled", verify=cluster.endpoints["PORTICO_CA"],
        auth=tuple(cluster.endpoints["PORTICO_INTERNAL_API"].split(":", 1)), timeout=5).json()
    assert any(t["window_ms"] == 86_400_000 for t in throttled["throttled"]), throttled
    # A gateway started now knows nothing of the counter: what it learns comes from the
    # traffic managers, which have it from PostgreSQL.
    cluster.stop("gw2")
    cluster.start("gw2")
    answer = calls(cluster, "gw2", who, 1)[0]
    assert answer.status_code == 429, answer.text
    assert error_code(answer) == 900804

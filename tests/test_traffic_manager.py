"""The traffic manager (`portico serve --profile traffic-manager`) as gateways see it: a real
process on PostgreSQL and a real redis-server, asked over HTTP (docs/throttling.md, "Traffic
manager").

Every test names its own counters (a fresh key) and gateways, so that the tests share one
process without seeing each other's counts.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

import portico_node
from conftest import POSTGRES_URL
from portico_node import binary_path, child_environment

USERNAME = "gateway"
PASSWORD = "traffic-test-internal-password"
MEMBERSHIP_TTL_SECONDS = 2
MINUTE_MS = 60_000
DAY_MS = 86_400_000
LEASES = "/internal/traffic/v1/leases"
THROTTLED = "/internal/traffic/v1/throttled"


class TrafficManagerNode(portico_node.Node):
    """A traffic manager answers the health probes, not the OAuth endpoints."""

    @property
    def ready_probe_url(self) -> str:
        return self.http_url + "/health/live"


@pytest.fixture(scope="module")
def database_url():
    if not POSTGRES_URL:
        pytest.skip("PORTICO_TEST_POSTGRES_URL is not set (run under scripts/with-postgres)")
    url = portico_node.create_postgres_database(POSTGRES_URL)
    yield url
    portico_node.drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture(scope="module")
def tm(tmp_path_factory, redis, database_url):
    node = TrafficManagerNode(
        tmp_path_factory.mktemp("traffic-manager"), database_url=database_url,
        profile="traffic-manager",
        sections={"redis": {"url": redis.url},
                  "internal_api": {"username": USERNAME, "password": PASSWORD},
                  "traffic": {"flush_seconds": 1,
                              "membership_ttl_seconds": MEMBERSHIP_TTL_SECONDS}})
    node.start()
    yield node
    if node.running:
        node.stop()


def new_key() -> str:
    return uuid.uuid4().hex[:16]


def now_ms() -> int:
    return int(time.time() * 1000)


def counter(key: str, limit: int, *, window_ms: int = MINUTE_MS, want: int = 0,
            overdraft: int = 0, give_back: int = 0, window: int | None = None) -> dict:
    return {"key": key, "window_ms": window_ms,
            "window": now_ms() // window_ms if window is None else window,
            "limit": limit, "overdraft": overdraft, "want": want, "return": give_back}


def post(tm, body, auth=(USERNAME, PASSWORD)):
    data = body if isinstance(body, str) else json.dumps(body)
    return tm.request("POST", tm.http_url + LEASES, data=data, auth=auth,
                      headers={"Content-Type": "application/json"})


def lease(tm, gateway: str, *counters: dict) -> dict:
    response = post(tm, {"gateway": gateway, "counters": list(counters)})
    assert response.status_code == 200, response.text
    return response.json()


def throttled(tm) -> dict:
    response = tm.request("GET", tm.http_url + THROTTLED, auth=(USERNAME, PASSWORD))
    assert response.status_code == 200, response.text
    return response.json()


def listed(tm, key: str) -> list[dict]:
    return [t for t in throttled(tm)["throttled"] if t["key"] == key]


def eventually(check, timeout: float = 10.0):
    """Polls `check` until it returns something truthy; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def redis_cli(redis, *args: str) -> str:
    return subprocess.run(["redis-cli", "-p", str(redis.port), *args], capture_output=True,
                          text=True, check=True).stdout


def test_without_its_settings_a_traffic_manager_refuses_to_start_in_one_line(tmp_path):
    node = TrafficManagerNode(tmp_path / "tm", profile="traffic-manager")
    result = subprocess.run(
        [str(binary_path()), "serve", "--profile", "traffic-manager", "--config",
         str(node.config_path)], capture_output=True, text=True, timeout=30,
        env=child_environment())
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "the traffic-manager profile needs" in lines[0]
    for key in ("internal_api.password", "redis.url", "database.url"):
        assert key in lines[0]
    # It neither issues nor checks tokens.
    assert "oauth.issuer" not in lines[0]


def test_the_traffic_api_refuses_callers_without_the_internal_credential(tm):
    body = {"gateway": "gw-anonymous", "counters": [counter(new_key(), 10, want=5)]}
    for auth in (None, (USERNAME, "wrong-password"), ("someone", PASSWORD)):
        response = post(tm, body, auth=auth)
        assert response.status_code == 401
        assert response.json()["code"] == 900901
        assert "WWW-Authenticate" in response.headers
    refused = tm.request("GET", tm.http_url + THROTTLED)
    assert refused.status_code == 401
    assert refused.json()["code"] == 900901


def test_a_bad_body_is_refused_whole_and_changes_nothing(tm):
    key = new_key()
    good = counter(key, 10, want=5, overdraft=3)
    bad_bodies = [
        "not json",
        {"counters": [good]},
        {"gateway": "", "counters": [good]},
        {"gateway": "g" * 129, "counters": [good]},
        {"gateway": "gw-bad"},
        {"gateway": "gw-bad", "counters": [good, {**good, "key": key.upper()}]},
        {"gateway": "gw-bad", "counters": [good, {**good, "limit": 0}]},
        {"gateway": "gw-bad", "counters": [good, {**good, "window_ms": 999}]},
        {"gateway": "gw-bad", "counters": [good, {**good, "want": -1}]},
        {"gateway": "gw-bad", "counters": [good, {**good, "return": 2 ** 40}]},
        {"gateway": "gw-bad", "counters": [good] * 1001},
    ]
    for body in bad_bodies:
        response = post(tm, body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()
        assert error["code"] == 400
        assert error["message"] == "Bad Request"
        assert error["description"]
    # Nothing of the good counter in those calls was applied.
    after = lease(tm, "gw-bad-check", counter(key, 10))["counters"][0]
    assert after["reserved"] == 0
    assert after["granted"] == 0


def test_grants_across_gateways_sum_to_exactly_the_limit(tm):
    key = new_key()
    window = now_ms() // MINUTE_MS
    limit = 500
    gateways = [f"gw-sum-{i}" for i in range(4)]

    def ask_until_spent(gateway: str) -> int:
        total = 0
        while True:
            c = lease(tm, gateway, counter(key, limit, want=40, window=window))["counters"][0]
            total += c["granted"]
            if c["until"]:
                assert c["reserved"] == limit
                assert c["until"] == (window + 1) * MINUTE_MS
                return total

    with ThreadPoolExecutor(len(gateways)) as pool:
        granted = list(pool.map(ask_until_spent, gateways))
    assert sum(granted) == limit
    assert all(g > 0 for g in granted)
    last = lease(tm, gateways[0], counter(key, limit, want=40, window=window))["counters"][0]
    assert last["granted"] == 0
    assert last["reserved"] == limit


def test_members_are_counted_and_stop_counting_when_silent(tm):
    suffix = uuid.uuid4().hex[:6]
    # Earlier tests' gateways fall silent, then only this test's count.
    assert eventually(lambda: lease(tm, f"gw-m1-{suffix}")["members"] == 1,
                      timeout=3 * MEMBERSHIP_TTL_SECONDS + 5)
    assert lease(tm, f"gw-m2-{suffix}")["members"] == 2
    key = new_key()
    answer = lease(tm, f"gw-m3-{suffix}", counter(key, 100, want=100))
    assert answer["members"] == 3
    # A share of what remains: ceil(100 / (2 * 3)).
    assert answer["counters"][0]["granted"] == math.ceil(100 / 6)
    assert throttled(tm)["members"] == 3
    # Once silent for the membership's time to live, they no longer count.
    assert eventually(lambda: throttled(tm)["members"] == 1,
                      timeout=3 * MEMBERSHIP_TTL_SECONDS + 5)


def test_a_spent_counter_says_until_when_and_is_listed_until_a_return(tm):
    key = new_key()
    window = now_ms() // MINUTE_MS
    end = (window + 1) * MINUTE_MS
    spent = lease(tm, "gw-until", counter(key, 5, overdraft=5, window=window))["counters"][0]
    assert spent == {"key": key, "window_ms": MINUTE_MS, "window": window, "granted": 0,
                     "reserved": 5, "until": end}
    assert listed(tm, key) == [{"key": key, "window_ms": MINUTE_MS, "window": window,
                                "until": end}]
    # A gateway gives back an unspent token: the counter is open again.
    freed = lease(tm, "gw-until", counter(key, 5, give_back=1, window=window))["counters"][0]
    assert freed["reserved"] == 4
    assert freed["until"] == 0
    assert listed(tm, key) == []


def test_a_window_that_ended_grants_nothing(tm):
    key = new_key()
    old_window = now_ms() // MINUTE_MS - 2
    answer = lease(tm, "gw-ended", counter(key, 10, want=5, overdraft=2, window=old_window))
    assert answer["counters"][0]["granted"] == 0
    assert answer["counters"][0]["reserved"] == 0
    assert lease(tm, "gw-ended", counter(key, 10, window=old_window))["counters"][0][
        "reserved"] == 0


def test_the_call_that_spends_a_counter_announces_it_on_the_event_log(tm, redis):
    key = new_key()
    window = now_ms() // MINUTE_MS
    lease(tm, "gw-event", counter(key, 3, overdraft=3, window=window))

    def announced(of: str):
        entries = redis_cli(redis, "XRANGE", "portico:{events}:log", "-", "+").splitlines()
        return [json.loads(line) for line in entries if line.startswith("{") and of in line]

    events = eventually(lambda: announced(key))
    assert events == [{"key": key, "window_ms": MINUTE_MS, "window": window,
                       "until": (window + 1) * MINUTE_MS}]
    # Only the call that took it to its limit announces it: once a later counter's event is
    # in the log (events keep their order), the first still has one.
    lease(tm, "gw-event", counter(key, 3, overdraft=1, window=window))
    marker = new_key()
    lease(tm, "gw-event", counter(marker, 1, overdraft=1, window=window))
    assert eventually(lambda: announced(marker))
    assert len(announced(key)) == 1


def test_without_redis_the_traffic_api_answers_503_and_recovers_when_it_returns(tm, redis):
    redis.stop()
    try:
        refused = post(tm, {"gateway": "gw-outage", "counters": [counter(new_key(), 10, want=1)]})
        assert refused.status_code == 503
        assert refused.json()["code"] == 900809
        listing = tm.request("GET", tm.http_url + THROTTLED, auth=(USERNAME, PASSWORD))
        assert listing.status_code == 503
        assert listing.json()["code"] == 900809
        assert tm.request("GET", tm.http_url + "/health/ready").status_code == 503
        assert tm.request("GET", tm.http_url + "/health/live").status_code == 200
    finally:
        redis.start()
    assert lease(tm, "gw-outage", counter(new_key(), 10, want=1))["counters"][0]["granted"] == 1
    ready = tm.request("GET", tm.http_url + "/health/ready")
    assert ready.status_code == 200
    assert ready.json()["profile"] == "traffic-manager"


def test_a_day_window_survives_redis_starting_over_empty(tm, redis, database_url):
    key = new_key()
    window = now_ms() // DAY_MS
    end = (window + 1) * DAY_MS
    lease(tm, "gw-day", counter(key, 50, window_ms=DAY_MS, overdraft=50, window=window))
    # The next flush writes it to the database.
    stored = eventually(lambda: portico_node.psql(
        database_url, f"SELECT used, limit_amount FROM quota_windows WHERE counter_key = '{key}'"
        f" AND window_ms = {DAY_MS} AND window_index = {window}").strip())
    assert stored == "50|50"
    # Redis loses everything, and the traffic manager what it remembered.
    redis.stop()
    tm.stop()
    redis.start()
    tm.start()
    assert listed(tm, key) == [{"key": key, "window_ms": DAY_MS, "window": window, "until": end}]
    again = lease(tm, "gw-day", counter(key, 50, window_ms=DAY_MS, want=10, window=window))
    assert again["counters"][0] == {"key": key, "window_ms": DAY_MS, "window": window,
                                    "granted": 0, "reserved": 50, "until": end}

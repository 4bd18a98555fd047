"""Analytics of gateway calls end to end (docs/analytics.md): a node with the JSON-lines file
and a short flush interval, a known mix of calls — successes, backend 404s and 500s, calls
without or with a bad credential, calls over a small subscription tier, a slow call — and
then: one line per call in the file with the reference's field names (matched to each call by
its `activityid`), the per-minute rollups through /api/am/analytics/v1 (requests, errors,
throttled, latency; grouped by api, status, resource, application) as the administrator, a
subscriber seeing only their own applications, and the Prometheus counters on the gateway's
admin port.

The API is published and subscribed before its first revision is deployed, so the first
call the gateway routes to it is already admitted: every routed call is one the test knows
the outcome of (calls before the deployment arrives are 404s without an API)."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from collections import Counter

import pytest
import requests

from devportal_support import PASSWORD
from gateway_support import (backend_fixture, Caller, create_policy, deploy, error_code, gateway,
                             lifecycle, publisher, request_limit, wait_for)

ANALYTICS = "/api/am/analytics/v1"
TIER_LIMIT = 3
# gateway.node_id is not set: the gateway goes by the host name in lines and metrics.
NODE_ID = socket.gethostname()


class Call:
    """One call through the gateway and what the test expects analytics to say about it."""

    def __init__(self, response: requests.Response, method: str, template: str | None,
                 app: dict | None, owner: str | None):
        self.response = response
        self.status = response.status_code
        self.method = method
        self.correlation_id = response.headers["activityid"]
        body = {}
        try:
            body = response.json()
        except ValueError:
            pass
        self.from_backend = isinstance(body, dict) and "backend" in body
        self.code = 0 if self.from_backend or self.status < 400 else int(body["code"])
        # A 404 the gateway answered itself: no API at the path yet.
        self.routed = not (self.status == 404 and not self.from_backend)
        self.template = template
        self.app = app if self.routed and self.code not in (900901, 900902) else None
        self.owner = owner if self.app else None

    @property
    def status_class(self) -> str:
        return f"{self.status // 100}xx"


@pytest.fixture(scope="module")
def analytics_file(tmp_path_factory):
    return tmp_path_factory.mktemp("analytics") / "events.jsonl"


@pytest.fixture(scope="module")
def anode(module_launcher, analytics_file):
    return module_launcher.new(sections={"analytics": {"file": str(analytics_file),
                                                      "flush_interval_ms": 200}})


echo_backend = backend_fixture("analytics")


@pytest.fixture(scope="module")
def traffic(anode, echo_backend):
    """Publishes the API, subscribes two applications, deploys, sends the mix; returns the
    API, the two callers and every call made."""
    node = anode
    tier = create_policy(node, "subscription", request_limit(TIER_LIMIT, "hour"),
                         stopOnQuotaReach=True)["policyName"]
    name = "An" + uuid.uuid4().hex[:8]
    operations = [{"target": t, "verb": "GET", "throttlingPolicy": "Unlimited"}
                  for t in ("/pets", "/pets/{petId}", "/status/{code}", "/slow/{ms}")]
    created = publisher(node, "POST", "/apis", json={
        "name": name, "context": "/" + name.lower(), "version": "1.0.0",
        "endpointConfig": {"endpoint_type": "http",
                           "production_endpoints": {"url": echo_backend.url}},
        "policies": [tier, "Unlimited"], "operations": operations})
    assert created.status_code == 201, created.text
    api = created.json()
    lifecycle(node, api["id"], "Publish")
    free, limited = Caller(node), Caller(node)
    free.subscribe(api, "Unlimited")
    limited.subscribe(api, tier)
    free_token, limited_token = free.token(), limited.token()
    base = f"{api['context']}/1.0.0"
    calls: list[Call] = []

    def call(path: str, template: str | None, who: Caller | None, token: str | None = None,
             **kwargs) -> Call:
        token = token if token is not None else (
            free_token if who is free else limited_token if who is limited else None)
        response = gateway(node, "GET", base + path, token,
                           headers={"User-Agent": "analytics-e2e/1.0"}, **kwargs)
        c = Call(response, "GET", template, who.app if who else None,
                 who.developer.username if who else None)
        calls.append(c)
        return c

    deploy(node, api["id"])
    deadline = time.monotonic() + 15
    while not call("/pets", "/pets", free).routed:
        assert time.monotonic() < deadline, "the deployment did not reach the gateway"
        time.sleep(0.05)
    assert calls[-1].status == 200, calls[-1].response.text

    for i in range(5):
        assert call(f"/pets?page={i}", "/pets", free).status == 200
    for pet in (7, 8):
        assert call(f"/pets/{pet}", "/pets/{petId}", free).status == 200
    for _ in range(3):
        assert call("/status/404", "/status/{code}", free).status == 404
    for _ in range(2):
        assert call("/status/500", "/status/{code}", free).status == 500
    assert call("/slow/350", "/slow/{ms}", free).status == 200
    for _ in range(4):
        c = call("/pets", "/pets", None)
        assert (c.status, c.code) == (401, 900902)
    for _ in range(2):
        c = call("/pets", "/pets", None, token="not-a-token")
        assert (c.status, c.code) == (401, 900901)
    for _ in range(TIER_LIMIT + 4):
        call("/pets", "/pets", limited)
    statuses = [c.status for c in calls[-(TIER_LIMIT + 4):]]
    assert statuses.count(429) >= 4 and set(statuses) <= {200, 429}, statuses
    return {"api": api, "free": free, "limited": limited, "calls": calls, "base": base}


def routed(traffic) -> list[Call]:
    return [c for c in traffic["calls"] if c.routed]


# ---- the JSON-lines file ----------------------------------------------------------------

FIELDS = {"apiId", "apiName", "apiVersion", "apiContext", "apiMethod", "apiResourceTemplate",
          "apiCreator", "applicationId", "applicationName", "applicationOwner", "keyType",
          "userName", "userIp", "userAgent", "correlationId", "eventType", "proxyResponseCode",
          "targetResponseCode", "responseLatency", "backendLatency",
          "requestMediationLatency", "responseMediationLatency", "errorType", "errorCode",
          "requestTimestamp", "requestSize", "responseSize", "nodeId"}


def file_lines(path) -> dict[str, dict]:
    if not path.exists():
        return {}
    lines = {}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        lines[event["correlationId"]] = event
    return lines


@pytest.fixture(scope="module")
def events(traffic, analytics_file):
    wanted = {c.correlation_id for c in traffic["calls"]}
    wait_for(lambda: wanted <= set(file_lines(analytics_file)), timeout=10)
    return file_lines(analytics_file)


def test_every_call_is_one_line_with_the_reference_fields(traffic, events, analytics_file):
    calls = traffic["calls"]
    ids = [c.correlation_id for c in calls]
    assert len(set(ids)) == len(ids)
    counted = Counter(json.loads(line)["correlationId"]
                      for line in analytics_file.read_text().splitlines())
    for c in calls:
        assert counted[c.correlation_id] == 1, c.correlation_id
        assert set(events[c.correlation_id]) == FIELDS, sorted(events[c.correlation_id])


def test_each_line_describes_its_call(traffic, events):
    api = traffic["api"]
    for c in routed(traffic):
        e = events[c.correlation_id]
        where = f"{c.status} {c.code}: {e}"
        assert e["apiId"] == api["id"], where
        assert e["apiName"] == api["name"], where
        assert e["apiVersion"] == "1.0.0", where
        assert e["apiContext"] == f"{api['context']}/1.0.0", where
        assert e["apiCreator"] == "admin", where
        assert e["apiMethod"] == "GET", where
        assert e["apiResourceTemplate"] == c.template, where
        assert e["userIp"] == "127.0.0.1", where
        assert e["userAgent"] == "analytics-e2e/1.0", where
        assert e["proxyResponseCode"] == c.status, where
        assert e["nodeId"] == NODE_ID, where
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["requestTimestamp"]), where
        assert e["responseLatency"] >= e["backendLatency"] >= 0, where
        if c.app:
            assert e["applicationId"] == c.app["applicationId"], where
            assert e["applicationName"] == c.app["name"], where
            assert e["applicationOwner"] == c.owner, where
            assert e["userName"] == c.owner, where
            assert e["keyType"] == "PRODUCTION", where
        if c.from_backend:
            # The backend answered (whatever its status): no gateway error.
            assert e["targetResponseCode"] == c.status, where
            assert e["errorCode"] == 0, where
            if c.status < 500:
                assert e["eventType"] == "response" and e["errorType"] is None, where
        else:
            # Refused at the gateway: the backend was not reached.
            assert e["targetResponseCode"] == -1, where
            assert e["errorCode"] == c.code, where
            assert e["eventType"] == "fault", where
            assert e["errorType"] == {401: "AUTH", 429: "THROTTLED"}[c.status], where
            assert e["backendLatency"] == 0, where
        if c.code in (900901, 900902):
            assert not e["applicationId"] and not e["keyType"], where
    slow = next(c for c in routed(traffic) if c.template == "/slow/{ms}")
    e = events[slow.correlation_id]
    assert e["backendLatency"] >= 350 and e["responseLatency"] >= 350, e


def test_calls_without_an_api_are_lines_too(traffic, events):
    for c in traffic["calls"]:
        if not c.routed:
            e = events[c.correlation_id]
            assert e["proxyResponseCode"] == 404 and e["apiName"] == "", e


# ---- the query API ----------------------------------------------------------------------

def query(node, measure: str, auth=None, **params) -> requests.Response:
    return node.request("GET", node.https_url + f"{ANALYTICS}/{measure}",
                        auth=auth or node.admin_auth, params=params)


def rows_when(node, measure: str, expected, key, auth=None, **params) -> list[dict]:
    """Polls the query until `key(list)` equals `expected` (rollups are written about every
    flush interval); returns the list."""
    last = {}

    def attempt():
        response = query(node, measure, auth, **params)
        assert response.status_code == 200, response.text
        last["list"] = response.json()["list"]
        return key(last["list"]) == expected

    try:
        wait_for(attempt, timeout=15, interval=0.2)
    except AssertionError:
        raise AssertionError(f"/{measure} {params}: expected {expected}, "
                             f"got {key(last.get('list', []))} from {last.get('list')}")
    return last["list"]


def test_requests_and_errors_per_api(anode, traffic):
    api_id = traffic["api"]["id"]
    calls = routed(traffic)
    errors = sum(1 for c in calls if c.status >= 400)
    rows = rows_when(anode, "requests", (len(calls), errors),
                     lambda rows: next(((r["requests"], r["errors"]) for r in rows
                                        if r["apiId"] == api_id), None), groupBy="api")
    row = next(r for r in rows if r["apiId"] == api_id)
    assert row["apiName"] == traffic["api"]["name"] and row["apiVersion"] == "1.0.0"
    assert row["requestBytes"] >= 0 and row["responseBytes"] > 0
    response = query(anode, "errors", groupBy="api", apiId=api_id)
    [row] = response.json()["list"]
    assert (row["requests"], row["errors"]) == (len(calls), errors)
    assert row["errorRate"] == pytest.approx(errors / len(calls), abs=1e-3)


def test_throttled_per_api(anode, traffic):
    api_id = traffic["api"]["id"]
    calls = routed(traffic)
    throttled = sum(1 for c in calls if c.status == 429)
    rows_when(anode, "throttled", [(len(calls), throttled)],
              lambda rows: [(r["requests"], r["throttled"]) for r in rows],
              groupBy="api", apiId=api_id)


def test_requests_per_status_class(anode, traffic):
    api_id = traffic["api"]["id"]
    expected = dict(Counter(c.status_class for c in routed(traffic)))
    assert set(expected) == {"2xx", "4xx", "5xx"}
    rows_when(anode, "requests", expected,
              lambda rows: {r["statusClass"]: r["requests"] for r in rows},
              groupBy="status", apiId=api_id)


def test_requests_per_resource(anode, traffic):
    api_id = traffic["api"]["id"]
    expected = dict(Counter(("GET", c.template) for c in routed(traffic)))
    rows_when(anode, "requests", expected,
              lambda rows: {(r["apiMethod"], r["apiResourceTemplate"]): r["requests"]
                            for r in rows},
              groupBy="resource", apiId=api_id)


def test_requests_per_application(anode, traffic):
    api_id = traffic["api"]["id"]
    expected = dict(Counter(c.app["applicationId"] if c.app else "" for c in routed(traffic)))
    rows = rows_when(anode, "requests", expected,
                     lambda rows: {r["applicationId"]: r["requests"] for r in rows},
                     groupBy="application", apiId=api_id)
    for who in (traffic["free"], traffic["limited"]):
        row = next(r for r in rows if r["applicationId"] == who.app["applicationId"])
        assert row["applicationName"] == who.app["name"]
        assert row["applicationOwner"] == who.developer.username


def test_latency_per_api(anode, traffic):
    api_id = traffic["api"]["id"]
    calls = routed(traffic)
    rows = rows_when(anode, "latency", len(calls),
                     lambda rows: sum(r["requests"] for r in rows), groupBy="api", apiId=api_id)
    [row] = rows
    assert 0 <= row["p50Ms"] <= row["p90Ms"] <= row["p99Ms"]
    # One call of the whole mix took over 350 ms: the slowest percent is in its bucket
    # (300, 500].
    assert 300 <= row["p99Ms"] <= 500, row
    assert row["averageMs"] >= 350 / len(calls), row


def test_a_subscriber_sees_only_their_own_applications(anode, traffic):
    api_id = traffic["api"]["id"]
    for who, other in ((traffic["free"], traffic["limited"]),
                       (traffic["limited"], traffic["free"])):
        mine = who.app["applicationId"]
        expected = sum(1 for c in routed(traffic) if c.app and c.app["applicationId"] == mine)
        auth = (who.developer.username, PASSWORD)
        rows_when(anode, "requests", {mine: expected},
                  lambda rows: {r["applicationId"]: r["requests"] for r in rows},
                  auth=auth, groupBy="application")
        rows_when(anode, "requests", expected, lambda rows: sum(r["requests"] for r in rows),
                  auth=auth, groupBy="api", apiId=api_id)
        # Another's application is filtered out, whatever the filter asks for.
        response = query(anode, "requests", auth, groupBy="application",
                         applicationId=other.app["applicationId"])
        assert response.status_code == 200 and response.json()["list"] == [], response.text
        assert query(anode, "status", auth).status_code == 403


def test_the_query_api_needs_credentials(anode, traffic):
    response = anode.request("GET", anode.https_url + f"{ANALYTICS}/requests")
    assert response.status_code == 401 and error_code(response) == 900902
    assert query(anode, "requests", groupBy="nonsense").status_code == 400


# ---- metrics and health on the admin port ----------------------------------------------------

def metric_samples(node) -> dict[tuple[str, frozenset], float]:
    """The samples by name and labels, the node_id label (on every sample) left out."""
    text = requests.get(node.gateway_admin_url + "/metrics", timeout=10).text
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)', line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        assert ("node_id", NODE_ID) in labels, line
        samples[(m.group(1), labels - {("node_id", NODE_ID)})] = float(m.group(3))
    return samples


def test_prometheus_counters_match_the_calls(anode, traffic):
    name = traffic["api"]["name"]
    calls = routed(traffic)
    by_class = Counter(c.status_class for c in calls)
    throttled = Counter(str(c.code) for c in calls if c.status == 429)
    auth = Counter(str(c.code) for c in calls if c.status == 401)
    expected = {}
    for cls, n in by_class.items():
        expected[("portico_requests_total",
                  frozenset({("api", name), ("version", "1.0.0"), ("status_class", cls)}))] = n
    for code, n in throttled.items():
        expected[("portico_throttled_total", frozenset({("api", name), ("code", code)}))] = n
    for code, n in auth.items():
        expected[("portico_auth_failures_total", frozenset({("api", name), ("code", code)}))] = n

    def current():
        samples = metric_samples(anode)
        return {k: samples.get(k) for k in expected}

    wait_for(lambda: current() == expected, timeout=10)
    samples = metric_samples(anode)
    # Nothing else counted for this API.
    for (metric, labels), value in samples.items():
        if metric in ("portico_requests_total", "portico_throttled_total",
                      "portico_auth_failures_total") and ("api", name) in labels:
            assert (metric, labels) in expected, (metric, labels, value)
    assert samples[("portico_request_duration_seconds_count",
                    frozenset({("api", name)}))] == len(calls)
    assert samples[("portico_analytics_dropped_total", frozenset())] == 0


def test_health_ready(anode, traffic):
    assert requests.get(anode.gateway_admin_url + "/health/ready", timeout=10).status_code == 200

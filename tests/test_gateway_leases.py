"""A gateway of its own leasing its quota from traffic managers (docs/throttling.md "Gateway
leases"): real control plane and gateway processes, and a small traffic manager in the test
that speaks the lease protocol over HTTP, so that what the gateway sends and how it treats the
answers can be seen. The end-to-end bound against real traffic managers is in the cluster
tests."""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

import portico_node
from conftest import POSTGRES_URL, NodeLauncher
from gateway_support import (Backend, Caller, create_policy, error_code, gateway, publish_api,
                             request_limit, wait_for, wait_for_status)

ISSUER = "https://portico.leases.test/oauth2/token"
INTERNAL_PASSWORD = "leases-internal-secret"
PROPAGATION_SECONDS = 15


class FakeTrafficManager:
    """Grants what is asked while each counter's limit lasts; answers 503 when told to."""

    def __init__(self, members: int = 3):
        self.members = members
        self.unavailable = False
        self.reserved: dict[tuple, int] = {}
        self.calls: list[dict] = []
        self.lock = threading.Lock()
        expected = "Basic " + base64.b64encode(
            f"gateway:{INTERNAL_PASSWORD}".encode()).decode()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def refused(self) -> bool:
                if self.headers.get("Authorization") != expected:
                    self.reply(401, {"code": 900901, "message": "Invalid Credentials"})
                    return True
                if fake.unavailable:
                    self.reply(503, {"code": 900809, "message": "Throttling unavailable"})
                    return True
                return False

            def do_GET(self):
                if self.refused():
                    return
                self.reply(200, {"members": fake.members, "throttled": []})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.refused():
                    return
                self.reply(200, fake.lease(body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def lease(self, body: dict) -> dict:
        with self.lock:
            self.calls.append(body)
            answers = []
            for c in body["counters"]:
                k = (c["key"], c["window_ms"], c["window"])
                reserved = max(0, self.reserved.get(k, 0) + c["overdraft"] - c["return"])
                granted = max(0, min(c["want"], c["limit"] - reserved))
                reserved += granted
                self.reserved[k] = reserved
                until = (c["window"] + 1) * c["window_ms"] if reserved >= c["limit"] else 0
                answers.append({"key": c["key"], "window_ms": c["window_ms"],
                                "window": c["window"], "granted": granted,
                                "reserved": reserved, "until": until})
            return {"members": self.members, "counters": answers}

    def counters_seen(self) -> list[dict]:
        with self.lock:
            return [c for call in self.calls for c in call["counters"]]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Cluster:
    def __init__(self, launcher: NodeLauncher, cp, sections: dict):
        self.launcher = launcher
        self.cp = cp
        self.sections = sections

    def gateway_node(self, **traffic):
        node_id = "gw-" + uuid.uuid4().hex[:6]
        sections = {**self.sections,
                    "gateway": {"control_plane_url": self.cp.https_url,
                                "control_plane_ca_file": self.cp.cert, "node_id": node_id},
                    "events": {"transport": "sse"},
                    "traffic": {"heartbeat_ms": 200, "breaker_reset_ms": 200, **traffic}}
        return self.launcher.new(profile="gateway", sections=sections)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, redis):
    if not POSTGRES_URL:
        pytest.skip("PORTICO_TEST_POSTGRES_URL is not set (run under scripts/with-postgres)")
    launcher = NodeLauncher(tmp_path_factory, "postgresql")
    database_url = portico_node.create_postgres_database(POSTGRES_URL)
    sections = {"oauth": {"issuer": ISSUER}, "internal_api": {"password": INTERNAL_PASSWORD},
                "redis": {"url": redis.url}}
    try:
        cp = launcher.new(profile="control-plane", database_url=database_url, sections=sections)
        yield Cluster(launcher, cp, sections)
    finally:
        launcher.close()
        portico_node.drop_postgres_database(POSTGRES_URL, database_url)


@pytest.fixture(scope="module")
def backend():
    b = Backend("leases")
    yield b
    b.close()


@pytest.fixture
def traffic_manager():
    tm = FakeTrafficManager()
    yield tm
    tm.close()


def metric(node, name: str) -> float | None:
    text = requests.get(node.gateway_admin_url + "/metrics", timeout=5).text
    match = re.search(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def limited_api(cluster, backend, per_hour: int) -> tuple[str, str]:
    """An API whose API-level policy admits `per_hour` requests an hour (an hour, so that no
    test straddles the end of a window), and a token for it."""
    policy = create_policy(cluster.cp, "advanced", request_limit(per_hour, unit="hour"))
    api = publish_api(cluster.cp, backend.url, apiThrottlingPolicy=policy["policyName"])
    caller = Caller(cluster.cp)
    caller.subscribe(api)
    return f"{api['context']}/1.0.0/items", caller.token()


def test_the_gateway_admits_what_its_leases_cover_and_no_more(cluster, backend, traffic_manager):
    gw = cluster.gateway_node(manager_urls=traffic_manager.url)
    path, token = limited_api(cluster, backend, 5)
    # The first request of the window is admitted on the gateway's one credit, and reported.
    wait_for_status(gw, "GET", path, 200, token, timeout=PROPAGATION_SECONDS)
    wait_for(lambda: any(c["overdraft"] == 1 for c in traffic_manager.counters_seen()))
    calls = len(traffic_manager.calls)
    wait_for(lambda: metric(gw, "portico_gateway_lease_calls_total") >= calls)  # applied
    counter = next(c for c in traffic_manager.counters_seen() if c["overdraft"] == 1)
    assert re.fullmatch(r"[0-9a-f]{16}", counter["key"])
    assert counter["limit"] == 5 and counter["window_ms"] == 3_600_000
    statuses = [gateway(gw, "GET", path, token) for _ in range(8)]
    assert [r.status_code for r in statuses] == [200] * 4 + [429] * 4
    assert error_code(statuses[-1]) == 900800
    assert metric(gw, "portico_gateway_throttle_refused_spent_total") >= 4
    assert metric(gw, "portico_gateway_traffic_members") == 3
    assert metric(gw, "portico_gateway_lease_calls_total") >= 1
    gw.stop()


def test_fail_closed_refuses_with_503_900809_once_no_traffic_manager_answers(
        cluster, backend, traffic_manager):
    traffic_manager.unavailable = True
    gw = cluster.gateway_node(manager_urls=traffic_manager.url, mode="fail-closed")
    path, token = limited_api(cluster, backend, 100)
    wait_for(lambda: metric(gw, "portico_gateway_throttle_fallback") == 1, timeout=10)
    wait_for_status(gw, "GET", path, 503, token, timeout=PROPAGATION_SECONDS)
    response = gateway(gw, "GET", path, token)
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == 900809
    assert body["message"] == "Throttling unavailable"
    gw.stop()


def test_fail_open_counts_locally_and_reports_it_when_a_traffic_manager_is_back(
        cluster, backend, traffic_manager):
    traffic_manager.unavailable = True
    gw = cluster.gateway_node(manager_urls=traffic_manager.url)
    path, token = limited_api(cluster, backend, 4)
    wait_for(lambda: metric(gw, "portico_gateway_throttle_fallback") == 1, timeout=10)
    # Members as last known: none yet, so this gateway takes the whole limit.
    wait_for_status(gw, "GET", path, 200, token, timeout=PROPAGATION_SECONDS)
    statuses = [gateway(gw, "GET", path, token).status_code for _ in range(5)]
    assert statuses == [200] * 3 + [429] * 2
    traffic_manager.unavailable = False
    wait_for(lambda: metric(gw, "portico_gateway_throttle_fallback") == 0, timeout=10)
    wait_for(lambda: sum(c["overdraft"] for c in traffic_manager.counters_seen()) == 4)
    gw.stop()

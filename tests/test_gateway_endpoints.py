"""Endpoint selection and transport failures through the gateway end to end
(docs/gateway.md, "Choices where the reference is silent"): load_balance round robin over real
backend processes, a backend killed mid-test (the call moves on, the endpoint is suspended for
its suspendDuration and comes back after it), the failover type, the reference's transport
codes (101503 connection failed → 502, 101504 read timeout → 504, 101508 connect timeout →
504, 101505 connection closed → 502), backend statuses passed through unchanged, keep-alive
reuse of backend connections, and PROTOTYPED APIs invoked without a token.

Raw socket servers stand in for backends that misbehave: one that closes without answering,
one that never accepts (a full listen queue: connects hang, so a connect timeout is local and
deterministic), and one that answers on keep-alive connections and counts them.

Round robin and suspension are per I/O thread: calls that must see one thread's view go
through one keep-alive client connection (a requests Session), which lives on one thread."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from gateway_support import caller, token  # noqa: F401 (module fixtures)
from gateway_support import (BACKEND_SCRIPT, Backend, endpoint_config, error_code,
                             gateway, lifecycle, publish_api, wait_for, wait_for_status)

VERSION = "1.0.0"


# ---- backends ----------------------------------------------------------------------------

class PortBackend(Backend):
    """A tests/gateway_backend.py process on a given port (to bring a killed backend back on
    the address the API names)."""

    def __init__(self, name: str, port: int):  # noqa: super().__init__ picks port 0
        self.name = name
        deadline = time.monotonic() + 10
        while True:
            self.process = subprocess.Popen(
                [sys.executable, str(BACKEND_SCRIPT), "--port", str(port), "--name", name],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            line = self.process.stdout.readline()
            if line.startswith("listening "):
                break
            self.process.wait()
            assert time.monotonic() < deadline, f"port {port} did not come free"
            time.sleep(0.1)
        self.port = int(line.split()[1])
        assert self.port == port


class RawServer:
    """A TCP server on a free loopback port whose connections `handler(server, conn, index)`
    serves on their own threads; counts connections."""

    def __init__(self, handler, backlog: int = 64):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(backlog)
        self.port = self.listener.getsockname()[1]
        self.handler = handler
        self.connections = 0
        self.requests = 0
        self.lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                index = self.connections
            threading.Thread(target=self._serve, args=(conn, index), daemon=True).start()

    def _serve(self, conn, index):
        try:
            conn.settimeout(30)
            self.handler(self, conn, index)
        except OSError:
            pass
        finally:
            conn.close()

    def count_request(self):
        with self.lock:
            self.requests += 1

    def counts(self) -> tuple[int, int]:
        with self.lock:
            return self.connections, self.requests

    def close(self):
        self.closed = True
        self.listener.close()


def read_head(conn, buffered: bytes = b"") -> tuple[bytes, bytes] | None:
    """Reads one request head (through the blank line); returns it and what followed, or
    None when the peer closed first."""
    data = buffered
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            return None
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def closing_handler(server: RawServer, conn, index):
    """Reads the request, then closes without a byte of answer."""
    if read_head(conn) is not None:
        server.count_request()


def keep_alive_handler(server: RawServer, conn, index):
    """Answers every request on the connection with 200 and the connection's number."""
    rest = b""
    while True:
        got = read_head(conn, rest)
        if got is None:
            return
        head, rest = got
        need = content_length(head)
        while len(rest) < need:
            piece = conn.recv(65536)
            if not piece:
                return
            rest += piece
        rest = rest[need:]
        server.count_request()
        body = f'{{"backend":"counting","connection":{index}}}'.encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


class BlackHole:
    """A listener whose queue is full: further connects get no SYN-ACK and hang until the
    connecting side gives up (Linux drops SYNs to a full accept queue)."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.fillers = []
        # The queue holds backlog + 1 connections: fill it, then probe that a connect hangs.
        for _ in range(4):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(0.3)
            try:
                s.connect(("127.0.0.1", self.port))
                self.fillers.append(s)
            except (TimeoutError, socket.timeout):
                s.close()
                self.works = True
                return
        self.works = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        for s in self.fillers:
            s.close()
        self.listener.close()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- fixtures and helpers -----------------------------------------------------------------

@pytest.fixture(scope="module")
def backends():
    started: list[Backend] = []

    def start(name: str) -> Backend:
        b = Backend(name)
        started.append(b)
        return b

    yield start
    for b in started:
        b.close()


@pytest.fixture(scope="module")
def raw_servers():
    started: list = []

    def start(kind, *args):
        s = kind(*args)
        started.append(s)
        return s

    yield start
    for s in started:
        s.close()


def serve(node, caller, token, endpoint: dict, probe: str = "/ready", status: int = 200,
          **fields) -> str:
    """Publishes an API with `endpoint`, subscribes the caller, waits until `probe` answers
    `status`; returns the API's base path."""
    api = publish_api(node, endpoint=endpoint, **fields)
    caller.subscribe(api)
    base = f"{api['context']}/{VERSION}"
    wait_for_status(node, "GET", base + probe, status, token)
    return base


def client(token: str) -> requests.Session:
    """One keep-alive client connection to the gateway (hence one gateway I/O thread)."""
    s = requests.Session()
    s.trust_env = False
    s.headers["Authorization"] = f"Bearer {token}"
    return s


def via(session: requests.Session, node, method: str, path: str, **kwargs):
    kwargs.setdefault("timeout", 30)
    return session.request(method, node.gateway_url + path, **kwargs)


def backend_of(response: requests.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["backend"]


def assert_transport_error(response: requests.Response, status: int, code: int) -> None:
    assert response.status_code == status, response.text
    assert error_code(response) == code, response.text
    assert response.headers["Content-Type"].startswith("application/json")


# ---- load balancing -------------------------------------------------------------------

@pytest.fixture(scope="module")
def balanced(node, caller, token, backends):
    trio = [backends(f"lb{i}") for i in range(1, 4)]
    base = serve(node, caller, token,
                 endpoint_config([b.url for b in trio], endpoint_type="load_balance"))
    return base, trio


def test_load_balance_is_round_robin_over_every_endpoint(node, token, balanced):
    base, trio = balanced
    names = [b.name for b in trio]
    with client(token) as s:
        seen = [backend_of(via(s, node, "GET", f"{base}/pets/{i}")) for i in range(30)]
    assert {n: seen.count(n) for n in names} == {n: 10 for n in names}, seen
    # Strict rotation: every three consecutive calls reach the three backends, in one order.
    for i in range(0, 30, 3):
        assert sorted(seen[i:i + 3]) == sorted(names), seen
    assert seen[3:] == seen[:-3], seen


def test_load_balance_spreads_calls_from_many_connections(node, token, balanced):
    base, trio = balanced
    # Fresh client connections land on either I/O thread, each with its own rotation: the
    # shares differ by at most one per thread.
    seen = [backend_of(gateway(node, "GET", f"{base}/x", token)) for _ in range(30)]
    counts = [seen.count(b.name) for b in trio]
    assert sum(counts) == 30 and max(counts) - min(counts) <= 2, counts


def test_backend_errors_pass_through_unchanged_and_do_not_suspend(node, token, balanced):
    base, trio = balanced
    with client(token) as s:
        for status in (400, 404, 418, 500, 502, 503, 504):
            response = via(s, node, "GET", f"{base}/status/{status}")
            assert response.status_code == status, response.text
            # The backend's own body and headers, not the gateway's error body.
            body = response.json()
            assert body["backend"] in {b.name for b in trio}, body
            assert body["path"] == f"/status/{status}"
            assert "code" not in body
            assert response.headers["X-Backend"] == body["backend"]
            assert response.headers["Content-Type"] == "application/json"
        # A backend's 5xx is an answer, not a transport failure: every backend keeps its share.
        seen = [via(s, node, "POST", f"{base}/status/503").json()["backend"] for _ in range(9)]
    assert sorted(seen) == sorted([b.name for b in trio] * 3), seen


def test_a_killed_backend_is_skipped_within_the_call_and_suspended(node, caller, token,
                                                                   backends):
    trio = [backends(f"ks{i}") for i in range(1, 4)]
    suspend_ms = 4000
    endpoint = endpoint_config(
        [{"url": b.url, "config": {"suspendDuration": suspend_ms, "suspendMaxDuration": suspend_ms,
                                   "factor": 1}} for b in trio],
        endpoint_type="load_balance")
    base = serve(node, caller, token, endpoint)
    victim = trio[1]
    with client(token) as s:
        seen = [backend_of(via(s, node, "GET", f"{base}/a")) for _ in range(6)]
        assert sorted(set(seen)) == sorted(b.name for b in trio), seen

        victim.kill()
        start = time.monotonic()
        # Every call still succeeds: the turn of the dead backend moves on to the next one.
        after = [via(s, node, "GET", f"{base}/b") for _ in range(9)]
        assert [r.status_code for r in after] == [200] * 9, [r.text for r in after]
        names = [r.json()["backend"] for r in after]
        assert victim.name not in names, names
        assert set(names) == {trio[0].name, trio[2].name}, names

        # The endpoint is suspended, not retried: a backend brought back on its address gets
        # nothing until the suspension ends...
        revived = PortBackend("revived", victim.port)
        try:
            during = []
            while time.monotonic() - start < suspend_ms / 1000 - 1.0:
                during.append(backend_of(via(s, node, "GET", f"{base}/c")))
            assert len(during) >= 6, during
            assert "revived" not in during, during
            # ...and its share again after it.
            back = wait_for(lambda: "revived" == backend_of(via(s, node, "GET", f"{base}/d")),
                            timeout=suspend_ms / 1000 + 5)
            assert back
            assert time.monotonic() - start >= suspend_ms / 1000 - 0.5
            seen = [backend_of(via(s, node, "GET", f"{base}/e")) for _ in range(9)]
            assert sorted(seen) == sorted([trio[0].name, "revived", trio[2].name] * 3), seen
        finally:
            revived.close()


def test_all_load_balanced_endpoints_down_is_502_101503(node, caller, token):
    ports = [free_port() for _ in range(3)]
    endpoint = endpoint_config([f"http://127.0.0.1:{p}" for p in ports],
                               endpoint_type="load_balance")
    base = serve(node, caller, token, endpoint, status=502)
    for _ in range(4):  # the first call finds them down, the next ones find them suspended
        assert_transport_error(gateway(node, "GET", f"{base}/x", token), 502, 101503)


# ---- failover -------------------------------------------------------------------------

def test_failover_moves_to_the_failovers_in_order(node, caller, token, backends):
    primary, first, second = backends("primary"), backends("failover1"), backends("failover2")
    endpoint = endpoint_config(primary.url, endpoint_type="failover",
                               production_failovers=[{"url": first.url}, {"url": second.url}])
    base = serve(node, caller, token, endpoint)
    for _ in range(4):
        assert backend_of(gateway(node, "GET", f"{base}/x", token)) == "primary"
    primary.kill()
    for _ in range(4):
        assert backend_of(gateway(node, "GET", f"{base}/x", token)) == "failover1"
    first.kill()
    for _ in range(4):
        assert backend_of(gateway(node, "GET", f"{base}/x", token)) == "failover2"
    second.kill()
    for _ in range(3):
        assert_transport_error(gateway(node, "GET", f"{base}/x", token), 502, 101503)


def test_a_lone_endpoint_down_is_502_101503(node, caller, token):
    base = serve(node, caller, token, endpoint_config(f"http://127.0.0.1:{free_port()}"),
                 status=502)
    response = gateway(node, "GET", f"{base}/x", token)
    assert_transport_error(response, 502, 101503)
    assert response.json()["message"] == "Bad Gateway"


def test_a_lone_endpoint_is_tried_even_when_suspended(node, caller, token):
    port = free_port()
    base = serve(node, caller, token, endpoint_config(f"http://127.0.0.1:{port}"), status=502)
    with client(token) as s:
        # This connection's thread now holds the endpoint suspended (default 30 s)...
        assert_transport_error(via(s, node, "GET", f"{base}/x"), 502, 101503)
        revived = PortBackend("lone", port)
        try:
            # ...and, with nothing better, tries it anyway.
            assert backend_of(via(s, node, "GET", f"{base}/x")) == "lone"
        finally:
            revived.close()


# ---- timeouts and broken connections ------------------------------------------------------

def test_a_read_timeout_is_504_101504(node, caller, token, backends):
    slow = backends("slow")
    endpoint = endpoint_config({"url": slow.url, "config": {"actionDuration": 500}})
    base = serve(node, caller, token, endpoint)
    assert backend_of(gateway(node, "GET", f"{base}/slow/50", token)) == "slow"
    started = time.monotonic()
    response = gateway(node, "GET", f"{base}/slow/3000", token)
    elapsed = time.monotonic() - started
    assert_transport_error(response, 504, 101504)
    assert response.json()["message"] == "Gateway Timeout"
    assert 0.4 <= elapsed < 2.5, elapsed


def test_a_connect_timeout_is_504_101508(node, caller, token, raw_servers):
    hole = raw_servers(BlackHole)
    if not hole.works:
        pytest.skip("a full listen queue does not make connects hang on this host")
    endpoint = endpoint_config({"url": hole.url, "config": {"connectTimeout": 300}})
    api = publish_api(node, endpoint=endpoint)
    caller.subscribe(api)
    base = f"{api['context']}/{VERSION}"
    wait_for(lambda: gateway(node, "GET", f"{base}/x", token).status_code == 504, timeout=15)
    started = time.monotonic()
    response = gateway(node, "GET", f"{base}/x", token)
    elapsed = time.monotonic() - started
    assert_transport_error(response, 504, 101508)
    assert 0.25 <= elapsed < 2.0, elapsed


def test_a_connect_timeout_moves_on_to_the_failover(node, caller, token, raw_servers,
                                                   backends):
    hole = raw_servers(BlackHole)
    if not hole.works:
        pytest.skip("a full listen queue does not make connects hang on this host")
    standby = backends("after-timeout")
    endpoint = endpoint_config({"url": hole.url, "config": {"connectTimeout": 300}},
                               endpoint_type="failover",
                               production_failovers=[{"url": standby.url}])
    base = serve(node, caller, token, endpoint)
    with client(token) as s:
        started = time.monotonic()
        assert backend_of(via(s, node, "GET", f"{base}/x")) == "after-timeout"
        assert time.monotonic() - started < 2.0


def first_proxied(node, method: str, path: str, token: str, **kwargs) -> requests.Response:
    """Sends the call until the API and the subscription have reached the gateway (404 and
    403 900908 until then), so that the backend sees exactly one call: the one returned."""
    deadline = time.monotonic() + 15
    while True:
        response = gateway(node, method, path, token, **kwargs)
        waiting = response.status_code == 404 or (
            response.status_code == 403 and error_code(response) == 900908)
        if not waiting or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_a_backend_that_closes_without_answering_is_502_101505(node, caller, token,
                                                                raw_servers):
    closer = raw_servers(RawServer, closing_handler)
    api = publish_api(node, endpoint=endpoint_config(closer.url))
    caller.subscribe(api)
    response = first_proxied(node, "GET", f"{api['context']}/{VERSION}/x", token)
    assert_transport_error(response, 502, 101505)
    assert response.json()["message"] == "Bad Gateway"
    # A fresh connection that failed after the request was sent is not tried again.
    assert closer.counts() == (1, 1)


@pytest.mark.parametrize("body", [pytest.param({"json": {"n": 1}}, id="with-body"),
                                  pytest.param({}, id="without-body")])
def test_a_post_the_backend_received_is_not_sent_to_the_failover(node, caller, token,
                                                                  raw_servers, backends, body):
    """docs/gateway.md: a connection failure moves on to the next endpoint; a failure after
    the request was sent does not (the request may have had effects)."""
    closer = raw_servers(RawServer, closing_handler)
    standby = backends("standby")
    endpoint = endpoint_config(closer.url, endpoint_type="failover",
                               production_failovers=[{"url": standby.url}])
    api = publish_api(node, endpoint=endpoint)
    caller.subscribe(api)
    response = first_proxied(node, "POST", f"{api['context']}/{VERSION}/orders", token, **body)
    assert closer.counts() == (1, 1)
    assert_transport_error(response, 502, 101505)


# ---- connection reuse -----------------------------------------------------------------

def test_sequential_calls_reuse_backend_connections(node, caller, token, raw_servers):
    counting = raw_servers(RawServer, keep_alive_handler)
    api = publish_api(node, endpoint=endpoint_config(counting.url))
    caller.subscribe(api)
    base = f"{api['context']}/{VERSION}"
    assert first_proxied(node, "GET", f"{base}/x", token).status_code == 200
    connections, calls = counting.counts()
    with client(token) as s:
        for i in range(40):
            response = via(s, node, "GET", f"{base}/x/{i}")
            assert response.json()["backend"] == "counting"
        for i in range(10):
            assert via(s, node, "POST", f"{base}/y", data=b"z" * 1000).status_code == 200
    # Fresh client connections too: each I/O thread keeps its own backend connections.
    for i in range(10):
        assert gateway(node, "GET", f"{base}/z", token).status_code == 200
    now_connections, now_calls = counting.counts()
    assert now_calls - calls == 60
    # One pooled connection per gateway I/O thread at most ([gateway] threads = 2).
    assert now_connections <= 2, (connections, now_connections)


# ---- prototypes ----------------------------------------------------------------------

def test_a_prototype_with_unsecured_operations_is_invoked_without_a_token(node, backends):
    proto = backends("proto")
    api = publish_api(node, proto.url, publish=False, operations=[
        {"target": "/pets", "verb": "GET", "authType": "None", "throttlingPolicy": "Unlimited"},
        {"target": "/pets", "verb": "POST", "authType": "None",
         "throttlingPolicy": "Unlimited"}])
    lifecycle(node, api["id"], "Deploy as a Prototype")
    base = f"{api['context']}/{VERSION}"
    response = wait_for_status(node, "GET", f"{base}/pets", 200)
    assert response.json()["backend"] == "proto"
    response = gateway(node, "POST", f"{base}/pets", json={"a": 1})
    assert response.status_code == 200, response.text
    assert response.json()["method"] == "POST"


def test_a_prototype_with_secured_operations_needs_a_credential(node, backends, caller, token):
    proto = backends("proto-secured")
    api = publish_api(node, proto.url, publish=False, operations=[
        {"target": "/pets", "verb": "GET", "authType": "Application & Application User",
         "throttlingPolicy": "Unlimited"},
        {"target": "/open", "verb": "GET", "authType": "None", "throttlingPolicy": "Unlimited"}])
    lifecycle(node, api["id"], "Deploy as a Prototype")
    base = f"{api['context']}/{VERSION}"
    assert wait_for_status(node, "GET", f"{base}/open", 200).json()["backend"] == "proto-secured"
    response = gateway(node, "GET", f"{base}/pets")
    assert response.status_code == 401, response.text
    assert error_code(response) == 900902
    assert "WWW-Authenticate" in response.headers

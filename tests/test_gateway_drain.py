"""Draining a gateway on SIGTERM (issue 10, "Drain"). The node closes the gateway's listeners
at once, so a new connection is refused (a load balancer's `proxy_next_upstream error` moves
it to another gateway); /health/ready answers 503; every response from then on says
`Connection: close` and kept-alive connections close after their in-flight response, idle
ones at once; in-flight requests, streaming ones included, finish within
`server.drain_timeout_seconds`, and the process exits as soon as they have, or cuts what is
left when that grace ends.

Every test stops its own all-in-one node, whose in-process gateway is the one drained."""

from __future__ import annotations

import signal
import socket
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import requests

from gateway_support import Backend, Caller, publish_api, wait_for, wait_for_status
from portico_node import Node

# Longer than any test waits for the exit: a process that exits within the wait exited
# before the grace ended.
LONG_GRACE = 300
EXIT_WAIT = 60
SLOW_MS = 3000


@pytest.fixture(scope="module")
def slow_backend():
    b = Backend("drain")
    yield b
    b.close()


@pytest.fixture(scope="module")
def pool():
    with ThreadPoolExecutor(max_workers=8) as executor:
        yield executor


class Gateway:
    """A started node with one API on the slow backend, a token for it, and calls through
    its gateway."""

    def __init__(self, node: Node, backend: Backend, pool: ThreadPoolExecutor):
        self.node = node
        self.backend = backend
        self.pool = pool
        api = publish_api(node, backend.url)
        caller = Caller(node)
        caller.subscribe(api)
        self.token = caller.token()
        self.path = f"{api['context']}/1.0.0"
        wait_for_status(node, "GET", self.path + "/anything", 200, self.token)

    def call(self, resource: str) -> requests.Response:
        # A session of its own: a connection of its own.
        with requests.Session() as session:
            return session.get(self.node.gateway_url + self.path + resource,
                               headers={"Authorization": f"Bearer {self.token}"}, timeout=120)

    def in_flight(self, resources: list[str]) -> list[Future]:
        """Calls under way at the backend when this returns."""
        before = self.backend_in_flight()
        calls = [self.pool.submit(self.call, resource) for resource in resources]
        wait_for(lambda: self.backend_in_flight() >= before + len(resources), timeout=30)
        return calls

    def backend_in_flight(self) -> int:
        return requests.get(self.backend.url + "/in-flight", timeout=10).json()["in_flight"]

    def ready_status(self) -> int:
        return requests.get(self.node.gateway_admin_url + "/health/ready", timeout=10).status_code

    def refuses_connections(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.node.gateway_http_port), timeout=5).close()
            return False
        except (ConnectionRefusedError, ConnectionResetError):
            # Reset: the connection reached the listener as it closed, before it was accepted.
            return True

    def terminate(self) -> None:
        self.node.process.send_signal(signal.SIGTERM)

    def exit_code(self, timeout: float = EXIT_WAIT) -> int:
        process = self.node.process
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(f"portico did not exit within {timeout} s of SIGTERM\n"
                                 f"{self.node.log_tail()}")
        finally:
            self.node._forget()
        return code

    def request_head(self, resource: str) -> bytes:
        return (f"GET {self.path}{resource} HTTP/1.1\r\nHost: gateway\r\n"
                f"Authorization: Bearer {self.token}\r\n\r\n").encode()


class RawConnection:
    """One kept-alive client connection to the gateway, byte by byte."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._receive()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, headers, body

    def closed_by_peer(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()

    def _receive(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise AssertionError("the gateway closed the connection before answering")
        self.buffer += data


def start_gateway(launcher, backend, pool, grace: int) -> Gateway:
    node = launcher.new(sections={"server": {"drain_timeout_seconds": grace}})
    return Gateway(node, backend, pool)


def test_in_flight_requests_finish_with_200_after_sigterm(sqlite_launcher, slow_backend, pool):
    gw = start_gateway(sqlite_launcher, slow_backend, pool, LONG_GRACE)
    slow = gw.in_flight([f"/slow/{SLOW_MS}"] * 4)
    stream = gw.in_flight(["/trickle/20/150"])[0]
    gw.terminate()
    for call in slow:
        response = call.result()
        assert response.status_code == 200, response.text
        assert response.headers["Connection"] == "close"
    streamed = stream.result()
    assert streamed.status_code == 200
    assert len(streamed.content) == 20 * 1024
    assert gw.exit_code() == 0


def test_a_new_connection_after_sigterm_is_refused(sqlite_launcher, slow_backend, pool):
    gw = start_gateway(sqlite_launcher, slow_backend, pool, LONG_GRACE)
    assert not gw.refuses_connections()
    call = gw.in_flight([f"/slow/{SLOW_MS}"])[0]
    gw.terminate()
    wait_for(gw.refuses_connections, timeout=30)
    assert not call.done()  # refused while a request was still being served
    assert call.result().status_code == 200
    assert gw.exit_code() == 0


def test_health_ready_answers_503_while_draining(sqlite_launcher, slow_backend, pool):
    gw = start_gateway(sqlite_launcher, slow_backend, pool, LONG_GRACE)
    assert gw.ready_status() == 200
    call = gw.in_flight([f"/slow/{SLOW_MS}"])[0]
    gw.terminate()
    wait_for(lambda: gw.ready_status() == 503, timeout=30)
    assert not call.done()
    ready = requests.get(gw.node.gateway_admin_url + "/health/ready", timeout=10)
    assert ready.json() == {"code": 503, "message": "Service Unavailable",
                            "description": "The gateway is shutting down"}
    assert call.result().status_code == 200
    assert gw.exit_code() == 0


def test_a_request_on_a_kept_alive_connection_during_the_drain_is_answered_with_connection_close(
        sqlite_launcher, slow_backend, pool):
    gw = start_gateway(sqlite_launcher, slow_backend, pool, LONG_GRACE)
    connection = RawConnection(gw.node.gateway_http_port)
    connection.send(gw.request_head("/anything"))
    status, headers, _ = connection.read_response()
    assert status == 200 and headers.get("connection") != "close"
    # The next request has begun on the kept-alive connection when the drain starts.
    head = gw.request_head("/anything")
    connection.send(head[:10])
    call = gw.in_flight([f"/slow/{SLOW_MS}"])[0]
    gw.terminate()
    wait_for(lambda: gw.ready_status() == 503, timeout=30)
    connection.send(head[10:])
    status, headers, _ = connection.read_response()
    assert status == 200
    assert headers["connection"] == "close"
    assert connection.closed_by_peer()
    connection.close()
    assert call.result().status_code == 200
    assert gw.exit_code() == 0


def test_an_idle_kept_alive_connection_is_closed_at_sigterm(sqlite_launcher, slow_backend, pool):
    gw = start_gateway(sqlite_launcher, slow_backend, pool, LONG_GRACE)
    connection = RawConnection(gw.node.gateway_http_port)
    connection.send(gw.request_head("/anything"))
    assert connection.read_response()[0] == 200
    call = gw.in_flight([f"/slow/{SLOW_MS}"])[0]
    gw.terminate()
    assert connection.closed_by_peer()
    assert not call.done()  # closed at once, not when the drain ended
    connection.close()
    assert call.result().status_code == 200
    assert gw.exit_code() == 0


def test_the_process_exits_before_the_grace_ends_once_in_flight_requests_are_done(
        sqlite_launcher, slow_backend, pool):
    gw = start_gateway(sqlite_launcher, slow_backend, pool, LONG_GRACE)
    call = gw.in_flight([f"/slow/{SLOW_MS}"])[0]
    gw.terminate()
    assert call.result().status_code == 200
    # EXIT_WAIT is far below LONG_GRACE.
    assert gw.exit_code(timeout=EXIT_WAIT) == 0


def test_a_request_that_never_finishes_is_cut_when_the_grace_ends(sqlite_launcher, slow_backend,
                                                                  pool):
    gw = start_gateway(sqlite_launcher, slow_backend, pool, grace=2)
    call = gw.in_flight(["/slow/600000"])[0]
    gw.terminate()
    assert gw.exit_code() == 0
    with pytest.raises(requests.ConnectionError):
        call.result()

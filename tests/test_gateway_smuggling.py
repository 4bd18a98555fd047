"""Request smuggling against the gateway, end to end: over raw sockets to the gateway's plain
HTTP port, every malformed request the request-smuggling research catalogues (framing: CL+TE,
duplicate or malformed Content-Length, obfuscated Transfer-Encoding, bad chunks; syntax:
bare LF or CR, control characters, obs-fold, Host; versions and limits), each with a valid
token for a published API. The gateway must answer with an error, close the connection, and
forward nothing: the API's endpoint is a raw TCP server in this test that records every byte
it receives. The table of cases and answers is in docs/gateway-protocol.md.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field

import pytest

from gateway_support import Caller, publish_api, wait_for_status

# Small enough to cross in a test, large enough for every valid request here.
MAX_BODY_BYTES = 1024 * 1024
# What the gateway's listener allows by default (src/http/server.h).
MAX_REQUEST_LINE_BYTES = 8 * 1024
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADER_COUNT = 100
# The gateway's read timeout in this module: short, so that waiting on it is cheap.
READ_TIMEOUT_SECONDS = 5
# How long the backend is given to show bytes that the gateway might still be sending.
SETTLE_SECONDS = 0.3


@pytest.fixture(scope="module")
def node(module_launcher):
    """The module's node, with a request body limit so that 413 can be asked for, and a short
    read timeout so that a request the gateway waits on cannot stall the suite."""
    return module_launcher.new(sections={"gateway": {
        "max_body_bytes": MAX_BODY_BYTES, "read_timeout_seconds": READ_TIMEOUT_SECONDS}})


@dataclass
class Connection:
    data: bytearray = field(default_factory=bytearray)
    closed: bool = False


class RawBackend:
    """A TCP server that records every byte each connection sends it and answers each
    complete HTTP/1.1 request (Content-Length or chunked) with a fixed 200."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.connections: list[Connection] = []
        self.request_lines: list[bytes] = []
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def total_bytes(self) -> int:
        with self.lock:
            return sum(len(c.data) for c in self.connections)

    def sizes(self) -> list[int]:
        """How many bytes each connection has received so far."""
        with self.lock:
            return [len(c.data) for c in self.connections]

    def received_since(self, mark: int) -> bytes:
        """Everything received after `mark` bytes (total_bytes() at some earlier moment),
        in connection order: enough to show a test what reached the backend."""
        with self.lock:
            everything = b"".join(bytes(c.data) for c in self.connections)
        return everything[mark:]

    def close(self) -> None:
        self.stopping = True
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopping:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            connection = Connection()
            with self.lock:
                self.connections.append(connection)
            threading.Thread(target=self._serve, args=(sock, connection), daemon=True).start()

    def _serve(self, sock: socket.socket, connection: Connection) -> None:
        buffer = b""
        with sock:
            while True:
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    chunk = b""
                with self.lock:
                    connection.data += chunk
                    if not chunk:
                        connection.closed = True
                if not chunk:
                    return
                buffer += chunk
                while True:
                    request = take_request(buffer)
                    if request is None:
                        break
                    line, buffer = request
                    with self.lock:
                        self.request_lines.append(line)
                        number = len(self.request_lines)
                    body = f"backend answer {number}\n".encode()
                    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                 b"Content-Length: " + str(len(body)).encode() +
                                 b"\r\n\r\n" + body)


def take_request(buffer: bytes) -> tuple[bytes, bytes] | None:
    """(request line, what follows the request) when `buffer` starts with a complete request,
    framed as the gateway frames what it sends (Content-Length or chunked)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buffer[:end].split(b"\r\n")
    rest = buffer[end + 4:]
    fields = {}
    for line in head[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
        position = 0
        while True:
            line_end = rest.find(b"\r\n", position)
            if line_end < 0:
                return None
            size = int(rest[position:line_end].split(b";")[0], 16)
            position = line_end + 2
            if size == 0:
                trailer_end = rest.find(b"\r\n", position)
                if trailer_end != position:  # trailers are never sent by the gateway
                    return None
                return head[0], rest[position + 2:]
            if len(rest) < position + size + 2:
                return None
            position += size + 2
    length = int(fields.get(b"content-length", b"0"))
    if len(rest) < length:
        return None
    return head[0], rest[length:]


@dataclass
class Exchange:
    received: bytes
    closed: bool  # the gateway closed the connection (recv returned b"")
    reset: bool = False

    def responses(self) -> list[tuple[int, dict[str, str], bytes]]:
        """The responses in `received`, framed by Content-Length as the gateway frames
        its own answers."""
        out = []
        data = self.received
        while data:
            end = data.find(b"\r\n\r\n")
            assert end >= 0, f"incomplete response: {data[:300]!r}"
            lines = data[:end].decode("latin-1").split("\r\n")
            version, status, *_ = lines[0].split(" ", 2)
            assert version in ("HTTP/1.1", "HTTP/1.0"), lines[0]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            body = data[end + 4:end + 4 + length]
            out.append((int(status), headers, body))
            data = data[end + 4 + length:]
        return out


def exchange(node, data: bytes, timeout: float = 15.0) -> Exchange:
    """Sends `data` on a fresh connection and reads until the gateway closes it (or stays
    silent for `timeout` seconds)."""
    sock = socket.create_connection(("127.0.0.1", node.gateway_http_port), timeout=timeout)
    received = b""
    with sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the whole request was sent: the answer may still be there
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return Exchange(received, closed=False)
            except ConnectionResetError:
                return Exchange(received, closed=True, reset=True)
            if not chunk:
                return Exchange(received, closed=True)
            received += chunk


# Not "backend": conftest's fixture of that name is the storage backend the node runs on.
@pytest.fixture(scope="module")
def raw_backend():
    b = RawBackend()
    yield b
    b.close()


@pytest.fixture(scope="module")
def api(node, raw_backend):
    return publish_api(node, raw_backend.url)


@pytest.fixture(scope="module")
def token(node, api):
    caller = Caller(node)
    caller.subscribe(api)
    t = caller.token()
    wait_for_status(node, "GET", f"{api['context']}/1.0.0/ready", 200, t)
    return t


@dataclass
class Target:
    path: str   # an API resource path on the gateway
    host: str   # the gateway's authority
    auth: str   # "Authorization: Bearer ..." field line


@pytest.fixture(scope="module")
def target(node, api, token) -> Target:
    return Target(f"{api['context']}/1.0.0/smuggle", f"127.0.0.1:{node.gateway_http_port}",
                  f"Authorization: Bearer {token}")


def request(t: Target, *fields: str, method: str = "POST", version: str = "HTTP/1.1",
            body: bytes = b"", host: bool = True) -> bytes:
    lines = [f"{method} {t.path} {version}"]
    if host:
        lines.append(f"Host: {t.host}")
    lines.append(t.auth)
    lines.extend(fields)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# name → (request bytes from a Target, the gateway's status). Every one is refused while
# the head is read, before any filter runs.
HEAD_CASES = {
    # Two framings, or an ambiguous one.
    "cl_and_te": (lambda t: request(t, "Content-Length: 6", "Transfer-Encoding: chunked",
                                    body=b"0\r\n\r\nG"), 400),
    "te_and_cl": (lambda t: request(t, "Transfer-Encoding: chunked", "Content-Length: 3",
                                    body=b"8\r\nSMUGGLED\r\n0\r\n\r\n"), 400),
    "two_content_lengths_differing": (lambda t: request(
        t, "Content-Length: 3", "Content-Length: 5", body=b"hello"), 400),
    "two_content_lengths_equal": (lambda t: request(
        t, "Content-Length: 5", "Content-Length: 5", body=b"hello"), 400),
    "content_length_plus_sign": (lambda t: request(t, "Content-Length: +5", body=b"hello"), 400),
    "content_length_minus_sign": (lambda t: request(t, "Content-Length: -5", body=b"hello"), 400),
    "content_length_space_inside": (lambda t: request(
        t, "Content-Length: 1 0", body=b"0123456789"), 400),
    "content_length_hex": (lambda t: request(t, "Content-Length: 0x5", body=b"hello"), 400),
    "content_length_comma_list": (lambda t: request(
        t, "Content-Length: 5, 5", body=b"hello"), 400),
    "content_length_overflow": (lambda t: request(
        t, "Content-Length: 18446744073709551621", body=b"hello"), 400),
    "content_length_over_limit": (lambda t: request(
        t, f"Content-Length: {MAX_BODY_BYTES + 1}", body=b"x" * 100), 413),
    "te_chunked_trailing_space": (lambda t: request(
        t, "Transfer-Encoding: chunked ", body=b"0\r\n\r\n"), 400),
    "te_chunked_trailing_tab": (lambda t: request(
        t, "Transfer-Encoding: chunked\t", body=b"0\r\n\r\n"), 400),
    "te_xchunked": (lambda t: request(t, "Transfer-Encoding: xchunked",
                                      body=b"0\r\n\r\n"), 400),
    "te_chunked_identity": (lambda t: request(t, "Transfer-Encoding: chunked, identity",
                                              body=b"0\r\n\r\n"), 400),
    "te_identity_chunked": (lambda t: request(t, "Transfer-Encoding: identity, chunked",
                                              body=b"0\r\n\r\n"), 400),
    "te_identity": (lambda t: request(t, "Transfer-Encoding: identity", body=b"0\r\n\r\n"), 400),
    "te_vertical_tab": (lambda t: request(t, "Transfer-Encoding: \x0bchunked",
                                          body=b"0\r\n\r\n"), 400),
    "te_tab_before_colon": (lambda t: request(t, "Transfer-Encoding\t: chunked",
                                              body=b"0\r\n\r\n"), 400),
    "te_space_before_colon": (lambda t: request(t, "Transfer-Encoding : chunked",
                                                body=b"0\r\n\r\n"), 400),
    "te_two_fields": (lambda t: request(t, "Transfer-Encoding: chunked",
                                        "Transfer-Encoding: identity", body=b"0\r\n\r\n"), 400),
    "te_in_http10": (lambda t: request(t, "Transfer-Encoding: chunked", version="HTTP/1.0",
                                       body=b"0\r\n\r\n"), 400),
    # Line endings and characters.
    "bare_lf_line_endings": (lambda t: request(t, "Content-Length: 0").replace(b"\r\n", b"\n"),
                             400),
    "bare_lf_in_one_field": (lambda t: request(t, "X-A: 1\nTransfer-Encoding: chunked",
                                               body=b"0\r\n\r\n"), 400),
    "bare_cr": (lambda t: request(t, "X-A: 1\rTransfer-Encoding: chunked",
                                  body=b"0\r\n\r\n"), 400),
    "nul_in_request_line": (lambda t: request(t, "Content-Length: 0").replace(
        b" HTTP/1.1", b"\x00 HTTP/1.1", 1), 400),
    "nul_in_field_value": (lambda t: request(t, "X-A: a\x00b", "Content-Length: 0"), 400),
    "control_character_in_field_value": (lambda t: request(
        t, "X-A: a\x01b", "Content-Length: 0"), 400),
    "del_in_field_value": (lambda t: request(t, "X-A: a\x7fb", "Content-Length: 0"), 400),
    "tab_in_request_line": (lambda t: request(t, "Content-Length: 0").replace(
        b"POST ", b"POST\t", 1), 400),
    "obs_fold_space": (lambda t: request(t, "X-A: a", " folded", "Content-Length: 0"), 400),
    "obs_fold_tab_hiding_chunked": (lambda t: request(
        t, "X-A: a", "\tTransfer-Encoding: chunked", body=b"0\r\n\r\n"), 400),
    # Host.
    "missing_host": (lambda t: request(t, "Content-Length: 0", host=False), 400),
    "two_hosts": (lambda t: request(t, "Host: evil.example", "Content-Length: 0"), 400),
    "host_with_space": (lambda t: request(t, "Content-Length: 0").replace(
        b"Host: ", b"Host: evil.example ", 1), 400),
    "host_with_userinfo": (lambda t: request(t, "Content-Length: 0").replace(
        b"Host: ", b"Host: user@", 1), 400),
    "host_with_slash": (lambda t: request(t, "Content-Length: 0").replace(
        b"Host: ", b"Host: evil.example/", 1), 400),
    # Versions.
    "http2_request_line": (lambda t: request(t, "Content-Length: 0", version="HTTP/2.0"), 505),
    "http12_request_line": (lambda t: request(t, "Content-Length: 0", version="HTTP/1.2"), 505),
    "lowercase_version": (lambda t: request(t, "Content-Length: 0", version="http/1.1"), 400),
    "h2c_prior_knowledge_preface": (lambda t: b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    # Limits of the listener.
    "request_line_too_long": (lambda t: request(
        t, "Content-Length: 0").replace(t.path.encode(),
                                         t.path.encode() + b"/" + b"a" * MAX_REQUEST_LINE_BYTES,
                                         1), 414),
    "header_fields_too_large": (lambda t: request(
        t, *[f"X-Big-{i}: " + "b" * 8000 for i in range(MAX_HEADER_BYTES // 8000 + 1)],
        "Content-Length: 0"), 431),
    "too_many_header_fields": (lambda t: request(
        t, *[f"X-F{i}: v" for i in range(MAX_HEADER_COUNT + 1)], "Content-Length: 0"), 431),
    "unknown_expectation": (lambda t: request(t, "Expect: 200-ok", "Content-Length: 0"), 417),
}

# Requests whose head is sound and whose chunked body is not, from its first chunk line: the
# gateway learns it when it reads the body, before anything goes upstream (the head leaves
# with the first piece of the body).
CHUNK_CASES = {
    "chunk_size_negative": b"-5\r\nhello\r\n0\r\n\r\n",
    "chunk_size_overflow": b"10000000000000005\r\nhello\r\n0\r\n\r\n",
    "chunk_size_not_hex": b"zz\r\nhello\r\n0\r\n\r\n",
    "chunk_size_with_space_inside": b"1 0\r\n0123456789abcdef\r\n0\r\n\r\n",
    "chunk_size_plus_sign": b"+5\r\nhello\r\n0\r\n\r\n",
}

# A chunk line ended by a bare LF: Beast looks for CRLF and waits for more.
BARE_LF_CHUNK = b"5\nhello\n0\n\n"


def assert_refused(ex: Exchange, status: int) -> dict[str, str]:
    responses = ex.responses()
    assert len(responses) == 1, responses
    got, headers, body = responses[0]
    assert got == status, (got, body)
    assert headers.get("connection", "").lower() == "close", headers
    # recv() returned b"" after the one response: the connection is closed, not reused.
    assert ex.closed and not ex.reset, ex
    return headers


def assert_backend_untouched(backend: RawBackend, mark: int) -> None:
    time.sleep(SETTLE_SECONDS)
    leaked = backend.received_since(mark)
    assert leaked == b"", f"the backend received {leaked[:500]!r}"


@pytest.mark.parametrize("case", list(HEAD_CASES))
def test_a_malformed_head_is_refused_closed_and_never_forwarded(node, raw_backend, target, case):
    build, status = HEAD_CASES[case]
    mark = raw_backend.total_bytes()
    ex = exchange(node, build(target))
    assert_refused(ex, status)
    assert_backend_untouched(raw_backend, mark)


# Heads that are well framed but whose request-target the gateway will not serve: refused
# after the head is read, before any filter runs.
TARGET_CASES = {
    "absolute_form_naming_another_host": lambda t: request(t, "Content-Length: 0").replace(
        t.path.encode(), b"http://evil.example" + t.path.encode(), 1),
    "encoded_slash_in_path": lambda t: request(t, "Content-Length: 0").replace(
        t.path.encode(), t.path.encode() + b"/a%2Fb", 1),
    "dot_dot_above_the_root": lambda t: request(t, "Content-Length: 0").replace(
        t.path.encode(), b"/.." + t.path.encode(), 1),
    "backslash_in_path": lambda t: request(t, "Content-Length: 0").replace(
        t.path.encode(), t.path.encode() + b"\\..\\x", 1),
    "asterisk_form_for_post": lambda t: request(t, "Content-Length: 0").replace(
        t.path.encode(), b"*", 1),
}


@pytest.mark.parametrize("case", list(TARGET_CASES))
def test_a_target_the_gateway_does_not_serve_is_refused_and_never_forwarded(
        node, raw_backend, target, case):
    mark = raw_backend.total_bytes()
    ex = exchange(node, TARGET_CASES[case](target) + b"GET / HTTP/1.1\r\nHost: x\r\n" +
                  b"Connection: close\r\n\r\n", timeout=8)
    assert ex.responses()[0][0] == 400, ex
    assert_backend_untouched(raw_backend, mark)


@pytest.mark.parametrize("case", list(TARGET_CASES))
def test_a_target_the_gateway_does_not_serve_closes_the_connection(node, raw_backend, target,
                                                                   case):
    ex = exchange(node, TARGET_CASES[case](target), timeout=3)
    assert_refused(ex, 400)


@pytest.mark.parametrize("case", list(CHUNK_CASES))
def test_a_malformed_first_chunk_is_refused_closed_and_never_forwarded(node, raw_backend,
                                                                        target, case):
    mark = raw_backend.total_bytes()
    ex = exchange(node, request(target, "Transfer-Encoding: chunked", body=CHUNK_CASES[case]))
    assert_refused(ex, 400)
    assert_backend_untouched(raw_backend, mark)


def test_a_chunk_line_ending_in_bare_lf_is_never_forwarded(node, raw_backend, target):
    """Never accepted as a line end, so never forwarded: the gateway waits for the CRLF until
    its read timeout, then answers 408 and closes the connection."""
    mark = raw_backend.total_bytes()
    started = time.monotonic()
    ex = exchange(node, request(target, "Transfer-Encoding: chunked", body=BARE_LF_CHUNK))
    elapsed = time.monotonic() - started
    assert_refused(ex, 408)
    assert READ_TIMEOUT_SECONDS - 1 <= elapsed <= READ_TIMEOUT_SECONDS + 5, elapsed
    assert_backend_untouched(raw_backend, mark)


def test_a_body_that_stops_arriving_gets_408_in_the_reference_shape(node, raw_backend, target):
    """Three bytes of the ten announced, then silence: the read timeout answers, in the
    gateway's error shape, and the backend never gets a complete request."""
    requests_before = len(raw_backend.request_lines)
    sizes = raw_backend.sizes()
    ex = exchange(node, request(target, "Content-Length: 10", body=b"abc"))
    headers = assert_refused(ex, 408)
    assert headers["content-type"].startswith("application/json"), headers
    body = json.loads(ex.responses()[0][2])
    assert body["code"] == 408 and body["message"] == "Request Timeout", body
    assert body["description"], body
    time.sleep(SETTLE_SECONDS)
    assert raw_backend.request_lines[requests_before:] == []
    with raw_backend.lock:
        touched = [c for i, c in enumerate(raw_backend.connections)
                   if len(c.data) > (sizes[i] if i < len(sizes) else 0)]
        assert all(c.closed for c in touched), "the upstream connection was left open"


def test_a_malformed_chunk_after_a_good_one_never_completes_upstream(node, raw_backend, target):
    """A streaming proxy relays a good chunk before it can know that the next one is bad:
    the backend gets the head and that chunk. What must hold is that it never gets a
    complete request: the gateway drops the upstream connection before any last chunk, so
    nothing that follows can be read as a request of its own."""
    sizes = raw_backend.sizes()
    requests_before = len(raw_backend.request_lines)
    ex = exchange(node, request(target, "Transfer-Encoding: chunked",
                                body=b"5\r\nhello\r\n5\r\nworldXX0\r\n\r\n"))
    assert_refused(ex, 400)
    time.sleep(SETTLE_SECONDS)
    assert raw_backend.request_lines[requests_before:] == []
    with raw_backend.lock:
        touched = [c for i, c in enumerate(raw_backend.connections)
                   if len(c.data) > (sizes[i] if i < len(sizes) else 0)]
        got = [bytes(c.data[sizes[i] if i < len(sizes) else 0:])
               for i, c in enumerate(raw_backend.connections) if c in touched]
        assert all(c.closed for c in touched), "the upstream connection was left open"
    for data in got:
        assert not data.endswith(b"0\r\n\r\n"), data
        assert b"XX" not in data, data


def test_pipelined_requests_reach_the_backend_in_order(node, raw_backend, target):
    first = request(target, "Content-Length: 5", body=b"first").replace(
        target.path.encode(), target.path.encode() + b"/first", 1)
    second = request(target, method="GET").replace(
        target.path.encode(), target.path.encode() + b"/second", 1)
    third = request(target, "Transfer-Encoding: chunked", "Connection: close",
                    body=b"5\r\nthird\r\n0\r\n\r\n").replace(
        target.path.encode(), target.path.encode() + b"/third", 1)
    before = len(raw_backend.request_lines)
    ex = exchange(node, first + second + third)
    responses = ex.responses()
    assert [r[0] for r in responses] == [200, 200, 200], responses
    assert ex.closed  # the third asked for it
    lines = raw_backend.request_lines[before:]
    assert [line.split(b" ")[0:2] for line in lines] == [
        [b"POST", b"/smuggle/first"], [b"GET", b"/smuggle/second"], [b"POST", b"/smuggle/third"]]
    # Each answer is the backend's answer to that request, in order.
    numbers = [int(body.split()[-1]) for _, _, body in responses]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3


def test_a_malformed_request_after_a_valid_one_stops_the_connection_there(node, raw_backend,
                                                                         target):
    valid = request(target, "Content-Length: 5", body=b"valid").replace(
        target.path.encode(), target.path.encode() + b"/valid", 1)
    smuggled = request(target, "Content-Length: 4", "Content-Length: 40", body=b"evil").replace(
        target.path.encode(), target.path.encode() + b"/evil", 1)
    before = len(raw_backend.request_lines)
    ex = exchange(node, valid + smuggled)
    assert [r[0] for r in ex.responses()] == [200, 400]
    assert ex.closed and not ex.reset
    time.sleep(SETTLE_SECONDS)
    assert [line.split(b" ")[1] for line in raw_backend.request_lines[before:]] == [b"/smuggle/valid"]
    assert b"/evil" not in raw_backend.received_since(0)


def test_leading_whitespace_before_chunked_is_the_ordinary_space(node, raw_backend, target):
    """"Transfer-Encoding:<TAB>chunked" is valid (OWS): accepted, decoded and re-framed."""
    before = len(raw_backend.request_lines)
    ex = exchange(node, request(target, "Transfer-Encoding:\tchunked", "Connection: close",
                                body=b"5\r\nhello\r\n0\r\n\r\n"))
    assert [r[0] for r in ex.responses()] == [200]
    assert len(raw_backend.request_lines) == before + 1


def test_an_h2c_upgrade_is_not_passed_on(node, raw_backend, target):
    """Upgrade and HTTP2-Settings are hop-by-hop: the backend never sees them, so it cannot
    switch the pooled connection to another protocol (h2c smuggling)."""
    mark = raw_backend.total_bytes()
    ex = exchange(node, request(target, "Connection: Upgrade, HTTP2-Settings, close",
                                "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__",
                                method="GET"))
    assert [r[0] for r in ex.responses()] == [200]
    time.sleep(SETTLE_SECONDS)
    forwarded = raw_backend.received_since(mark).lower()
    assert b"upgrade" not in forwarded and b"http2-settings" not in forwarded, forwarded

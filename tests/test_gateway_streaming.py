"""Bodies stream through the gateway (docs/gateway.md, "How the gateway runs"): a 1 GiB upload
and 1 GiB downloads, with Content-Length and chunked framing both ways, arrive intact (length
and sha256 — the backend hashes uploads as they arrive, the test hashes downloads as it reads
them) while the portico process's resident memory stays flat; `[gateway] max_body_bytes`
refuses a larger Content-Length with 413 before the backend sees a byte; `Expect:
100-continue` uploads get their 100 once every filter passed, and a refusal instead of it.

The large transfers run once per storage backend (one test each: 1 GiB uploads, 512 MiB
downloads until the gateway's slow response relay is fixed); everything else is small."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time

import pytest
import requests

from gateway_support import caller, token  # noqa: F401 (module fixtures)
from gateway_support import (backend_fixture, Caller, gateway, publish_api,
                             wait_for_status)

GIB = 1 << 30
MIB = 1 << 20
DOWNLOAD = GIB
PATTERN = bytes(range(256)) * 256       # what tests/gateway_backend.py sends, repeated
BLOCK = PATTERN * 16                    # 1 MiB of the same stream
# Resident memory a 1 GiB transfer may add to the process: far below the body (a process
# that buffered it would grow by 1 GiB), above what allocator arenas and caches may take.
RSS_BOUND = 64 * MIB

_pattern_digests: dict[int, str] = {}


def pattern_sha256(n: int) -> str:
    """sha256 of the first n bytes of the backend's pattern (n a multiple of 1 MiB)."""
    assert n % MIB == 0
    if n not in _pattern_digests:
        digest = hashlib.sha256()
        for _ in range(n // MIB):
            digest.update(BLOCK)
        _pattern_digests[n] = digest.hexdigest()
    return _pattern_digests[n]


class PatternBody:
    """An upload body of n pattern bytes made as it is read: iterated it goes chunked (requests
    cannot know its length), passed as `sized()` it goes with a Content-Length."""

    def __init__(self, n: int):
        assert n % MIB == 0
        self.n = n
        self.sent = 0

    def __iter__(self):
        while self.sent < self.n:
            self.sent += MIB
            yield BLOCK

    def sized(self) -> "SizedBody":
        return SizedBody(self.n)


class SizedBody:
    """File-like: requests sends Content-Length: len(), http.client read()s it block by block."""

    def __init__(self, n: int):
        self.n = n
        self.sent = 0

    def __len__(self):
        return self.n

    def read(self, _size: int = -1) -> bytes:
        if self.sent >= self.n:
            return b""
        self.sent += MIB
        return BLOCK


def vm_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class RssSampler:
    """Samples the process's resident set every 20 ms while the block runs."""

    def __init__(self, pid: int):
        self.pid = pid
        self.start = vm_rss(pid)
        self.peak = self.start
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, vm_rss(self.pid))
            self.samples += 1
            self._stop.wait(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.start

    def check(self):
        assert self.samples >= 10, self.samples
        assert self.growth < RSS_BOUND, (
            f"RSS grew by {self.growth / MIB:.1f} MiB (from {self.start / MIB:.1f} MiB) "
            f"during a 1 GiB transfer")


# ---- fixtures ---------------------------------------------------------------------------

echo_backend = backend_fixture("stream")


@pytest.fixture(scope="module")
def base(node, echo_backend, caller, token):
    api = publish_api(node, echo_backend.url)
    caller.subscribe(api)
    path = f"{api['context']}/1.0.0"
    wait_for_status(node, "GET", path + "/ready", 200, token)
    return path


def session(token: str) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    s.headers["Authorization"] = f"Bearer {token}"
    return s


def download(s: requests.Session, url: str) -> tuple[requests.Response, int, str]:
    digest = hashlib.sha256()
    length = 0
    with s.get(url, stream=True, timeout=60) as response:
        assert response.status_code == 200, response.text
        for piece in response.iter_content(chunk_size=MIB):
            digest.update(piece)
            length += len(piece)
    return response, length, digest.hexdigest()


# ---- 1 GiB, both directions, both framings --------------------------------------------

def test_a_1_gib_chunked_upload_streams_in_constant_memory(node, base, token):
    body = PatternBody(GIB)
    with session(token) as s, RssSampler(node.process.pid) as rss:
        response = s.post(node.gateway_url + base + "/upload", data=body, timeout=120)
    assert response.status_code == 200, response.text
    echo = response.json()
    assert "chunked" in echo["headers"].get("transfer-encoding", "")
    assert "content-length" not in echo["headers"]
    assert echo["body_length"] == GIB
    assert echo["body_sha256"] == pattern_sha256(GIB)
    rss.check()


def test_a_1_gib_content_length_upload_streams_in_constant_memory(node, base, token):
    with session(token) as s, RssSampler(node.process.pid) as rss:
        response = s.put(node.gateway_url + base + "/upload", data=SizedBody(GIB), timeout=120)
    assert response.status_code == 200, response.text
    echo = response.json()
    assert echo["headers"]["content-length"] == str(GIB)
    assert "transfer-encoding" not in echo["headers"]
    assert echo["body_length"] == GIB
    assert echo["body_sha256"] == pattern_sha256(GIB)
    rss.check()


def test_a_512_mib_content_length_download_streams_in_constant_memory(node, base, token):
    with session(token) as s, RssSampler(node.process.pid) as rss:
        response, length, sha = download(s, node.gateway_url + base + f"/download/{DOWNLOAD}")
    assert response.headers["Content-Length"] == str(DOWNLOAD)
    assert "Transfer-Encoding" not in response.headers
    assert length == DOWNLOAD
    assert sha == pattern_sha256(DOWNLOAD)
    rss.check()


def test_a_512_mib_chunked_download_streams_in_constant_memory(node, base, token):
    with session(token) as s, RssSampler(node.process.pid) as rss:
        response, length, sha = download(s, node.gateway_url + base + f"/stream/{DOWNLOAD}")
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.headers
    assert length == DOWNLOAD
    assert sha == pattern_sha256(DOWNLOAD)
    rss.check()


# ---- raw HTTP, for Expect: 100-continue and refusals before the body ---------------------

class RawClient:
    """One client connection to the gateway speaking HTTP/1.1 by hand."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffered = b""

    def send(self, data: bytes) -> bool:
        """False when the gateway already closed its side."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _fill(self) -> bool:
        try:
            piece = self.sock.recv(65536)
        except ConnectionResetError:
            piece = b""
        self.buffered += piece
        return bool(piece)

    def response(self) -> tuple[int, dict, bytes]:
        """The next response: status, headers (lower-case names) and body."""
        while b"\r\n\r\n" not in self.buffered:
            assert self._fill(), f"connection closed before a response: {self.buffered!r}"
        head, _, self.buffered = self.buffered.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status < 200:
            return status, headers, b""
        length = int(headers.get("content-length", "0"))
        while len(self.buffered) < length:
            assert self._fill(), "connection closed inside a body"
        body, self.buffered = self.buffered[:length], self.buffered[length:]
        return status, headers, body

    def nothing_within(self, seconds: float) -> bool:
        """True when no byte arrives for `seconds` (the connection may stay open)."""
        self.sock.settimeout(seconds)
        try:
            piece = self.sock.recv(65536)
        except (TimeoutError, socket.timeout):
            return True
        finally:
            self.sock.settimeout(30)
        self.buffered += piece
        return False

    def close(self):
        self.sock.close()


def request_head(method: str, path: str, token: str | None = None, **fields) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: gateway"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_expect_100_continue_uploads_get_their_100_then_pass(node, base, token):
    body = BLOCK * 2
    c = RawClient(node.gateway_http_port)
    try:
        assert c.send(request_head("POST", base + "/upload", token, Expect="100-continue",
                                   Content_Length=len(body), Content_Type="application/x-bin"))
        status, _, _ = c.response()
        assert status == 100
        assert c.send(body)
        status, headers, answer = c.response()
        assert status == 200, answer
        echo = json.loads(answer)
        assert echo["body_length"] == len(body)
        assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()
        # The 100 was the gateway's business with the client: the backend is not asked.
        assert "expect" not in echo["headers"]
        # The connection goes on.
        assert c.send(request_head("GET", base + "/again", token))
        assert c.response()[0] == 200
    finally:
        c.close()


def test_expect_100_continue_refused_by_a_filter_gets_no_100(node, base, token):
    c = RawClient(node.gateway_http_port)
    try:
        assert c.send(request_head("POST", base + "/upload", None, Expect="100-continue",
                                   Content_Length=10 * MIB))
        status, headers, answer = c.response()
        assert status == 401, answer
        assert json.loads(answer)["code"] == 900902
    finally:
        c.close()


def test_small_bodies_keep_their_framing(node, base, token):
    """The framings of small bodies too: what the client sent is what the backend got."""
    with session(token) as s:
        sized = s.post(node.gateway_url + base + "/upload", data=BLOCK)
        # (requests writes each piece as one chunk: no empty piece, it would end the body)
        chunked = s.post(node.gateway_url + base + "/upload",
                         data=iter([BLOCK[:1000], b"x", BLOCK]))
        empty = s.post(node.gateway_url + base + "/upload", data=b"")
    assert sized.json()["headers"]["content-length"] == str(MIB)
    assert sized.json()["body_length"] == MIB
    assert chunked.json()["headers"]["transfer-encoding"] == "chunked"
    assert chunked.json()["body_length"] == MIB + 1001
    assert chunked.json()["body_sha256"] == hashlib.sha256(BLOCK[:1000] + b"x" + BLOCK).hexdigest()
    assert empty.json()["body_length"] == 0


# ---- [gateway] max_body_bytes -------------------------------------------------------------

LIMIT = MIB


class RecordingBackend:
    """Answers each request with the body length it read; counts connections and bytes, so
    that a test can tell the backend saw nothing."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.bytes = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        data = b""
        try:
            conn.settimeout(30)
            while True:
                while b"\r\n\r\n" not in data:
                    piece = conn.recv(65536)
                    if not piece:
                        return
                    with self.lock:
                        self.bytes += len(piece)
                    data += piece
                head, _, data = data.partition(b"\r\n\r\n")
                need = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        need = int(value)
                while len(data) < need:
                    piece = conn.recv(65536)
                    if not piece:
                        return
                    with self.lock:
                        self.bytes += len(piece)
                    data += piece
                data = data[need:]
                body = str(need).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(body)).encode()
                             + b"\r\n\r\n" + body)
        except OSError:
            pass
        finally:
            conn.close()

    def seen(self) -> tuple[int, int]:
        with self.lock:
            return self.connections, self.bytes

    def close(self):
        self.listener.close()


@pytest.fixture(scope="module")
def recorder():
    r = RecordingBackend()
    yield r
    r.close()


@pytest.fixture(scope="module")
def limited(module_launcher, recorder):
    """A node refusing bodies above LIMIT, its API to the recording backend and a token."""
    node = module_launcher.new(sections={"gateway": {"max_body_bytes": LIMIT}})
    api = publish_api(node, recorder.url)
    caller = Caller(node)
    caller.subscribe(api)
    token = caller.token()
    path = f"{api['context']}/1.0.0"
    wait_for_status(node, "GET", path + "/ready", 200, token)
    return node, path, token


def test_a_body_at_the_limit_passes(limited):
    node, path, token = limited
    response = gateway(node, "POST", path + "/upload", token, data=b"a" * LIMIT)
    assert response.status_code == 200, response.text
    assert response.text == str(LIMIT)


def test_a_content_length_above_the_limit_is_413_before_the_backend_sees_it(limited, recorder):
    node, path, token = limited
    before = recorder.seen()
    c = RawClient(node.gateway_http_port)
    try:
        # Only the head: the refusal must not wait for a body.
        assert c.send(request_head("POST", path + "/upload", token, Content_Length=LIMIT + 1,
                                   Content_Type="application/octet-stream"))
        status, headers, answer = c.response()
        assert status == 413, answer
        assert json.loads(answer)["code"] == 413
    finally:
        c.close()
    # A client that sends the body anyway gets the same answer.
    response = gateway(node, "POST", path + "/upload", token, data=b"a" * (LIMIT + 1))
    assert response.status_code == 413, response.text
    time.sleep(0.2)
    assert recorder.seen() == before


def test_expect_100_continue_above_the_limit_is_413_without_a_100(limited, recorder):
    node, path, token = limited
    before = recorder.seen()
    c = RawClient(node.gateway_http_port)
    try:
        assert c.send(request_head("PUT", path + "/upload", token, Expect="100-continue",
                                   Content_Length=100 * GIB))
        status, _, _ = c.response()
        assert status == 413
    finally:
        c.close()
    assert recorder.seen() == before


def test_a_chunked_body_above_the_limit_is_413(limited):
    node, path, token = limited
    c = RawClient(node.gateway_http_port)
    try:
        assert c.send(request_head("POST", path + "/upload", token,
                                   Transfer_Encoding="chunked"))
        piece = b"%x\r\n" % (64 * 1024) + b"c" * (64 * 1024) + b"\r\n"
        for _ in range(2 * LIMIT // (64 * 1024)):
            if not c.send(piece):
                break
        c.send(b"0\r\n\r\n")
        status, _, answer = c.response()
        assert status == 413, answer
    finally:
        c.close()


# ---- relay cost -----------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far (insensitive to other load on the host,
    unlike wall-clock time)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_downloads_cost_the_gateway_about_what_uploads_cost(node, base, token):
    size = 64 * MIB
    pid = node.process.pid
    with session(token) as s:
        before = cpu_seconds(pid)
        response = s.post(node.gateway_url + base + "/upload", data=SizedBody(size), timeout=120)
        assert response.json()["body_length"] == size
        up = cpu_seconds(pid) - before
        before = cpu_seconds(pid)
        assert download(s, node.gateway_url + base + f"/download/{size}")[1] == size
        down = cpu_seconds(pid) - before
    # The same bytes through the same 16 KiB relay buffer, one way or the other.
    assert down <= 3 * up + 0.1, (f"gateway CPU for 64 MiB: upload {up:.2f} s, "
                                  f"download {down:.2f} s")

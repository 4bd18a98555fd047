"""A small real backend for the gateway's end-to-end tests and benchmarks, run as its own
process so that a test can kill it:

    /usr/bin/python3 tests/gateway_backend.py --port 0 --name b1

prints "listening <port>" once it accepts connections. Every answer names the backend
(X-Backend header and "backend" field) so load balancing and failover can be observed.

    GET|POST|... /anything    → JSON echo: method, path, query, headers, body length + sha256
    /status/<code>            → that status with an echo body
    /slow/<ms>                → waits, then echoes
    /trickle/<n>/<ms>         → n chunks of 1 KiB, one every <ms> milliseconds (a long stream)
    /in-flight                → how many /slow and /trickle answers are under way (ask the
                                backend itself: a test waits until its calls have reached it)
    /download/<n>             → n bytes with Content-Length, generated as they are sent
    /stream/<n>               → n bytes chunked, generated as they are sent
    POST /upload              → reads the body as it arrives (Content-Length or chunked),
                                answers its length and sha256 without keeping it
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATTERN = bytes(range(256)) * 256  # 64 KiB, repeated for large bodies


def pattern_bytes(n: int):
    while n > 0:
        piece = PATTERN[: min(n, len(PATTERN))]
        n -= len(piece)
        yield piece


def pattern_sha256(n: int) -> str:
    digest = hashlib.sha256()
    for piece in pattern_bytes(n):
        digest.update(piece)
    return digest.hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "portico-test-backend"

    def log_message(self, format, *args):  # quiet
        pass

    def read_body(self):
        """Length and sha256 of the request body, read piece by piece."""
        digest = hashlib.sha256()
        length = 0
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                remaining = size
                while remaining:
                    piece = self.rfile.read(min(remaining, 65536))
                    if not piece:
                        raise ConnectionError("body ended early")
                    digest.update(piece)
                    length += len(piece)
                    remaining -= len(piece)
                self.rfile.readline()
        else:
            remaining = int(self.headers.get("Content-Length", "0") or 0)
            while remaining:
                piece = self.rfile.read(min(remaining, 65536))
                if not piece:
                    raise ConnectionError("body ended early")
                digest.update(piece)
                length += len(piece)
                remaining -= len(piece)
        return length, digest.hexdigest()

    def send_json(self, status: int, body: dict, extra_headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Backend", self.server.name)
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        path, _, query = self.path.partition("?")
        length, sha = self.read_body()
        echo = {"backend": self.server.name, "method": self.command, "path": path,
                "query": query, "headers": {k.lower(): v for k, v in self.headers.items()},
                "header_list": [[k, v] for k, v in self.headers.items()],
                "body_length": length, "body_sha256": sha}
        parts = path.strip("/").split("/")
        tail = parts[-1] if parts else ""
        if len(parts) >= 2 and parts[-2] == "status" and tail.isdigit():
            return self.send_json(int(tail), echo)
        if tail == "in-flight":
            return self.send_json(200, {"in_flight": self.server.in_flight})
        if len(parts) >= 2 and parts[-2] == "slow" and tail.isdigit():
            with self.server.counting():
                time.sleep(int(tail) / 1000)
                return self.send_json(200, echo)
        if len(parts) >= 3 and parts[-3] == "trickle" and parts[-2].isdigit() and tail.isdigit():
            with self.server.counting():
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("X-Backend", self.server.name)
                self.end_headers()
                for _ in range(int(parts[-2])):
                    self.wfile.write(b"400\r\n" + PATTERN[:1024] + b"\r\n")
                    self.wfile.flush()
                    time.sleep(int(tail) / 1000)
                self.wfile.write(b"0\r\n\r\n")
                return
        if len(parts) >= 2 and parts[-2] == "download" and tail.isdigit():
            n = int(tail)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.send_header("X-Backend", self.server.name)
            self.send_header("X-Body-Sha256", pattern_sha256(n) if n <= 1 << 20 else "")
            self.end_headers()
            if self.command != "HEAD":
                for piece in pattern_bytes(n):
                    self.wfile.write(piece)
            return
        if len(parts) >= 2 and parts[-2] == "stream" and tail.isdigit():
            n = int(tail)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("X-Backend", self.server.name)
            self.end_headers()
            for piece in pattern_bytes(n):
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_json(200, echo, [("X-Echo-Method", self.command)])

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, name: str):
        super().__init__(address, Handler)
        self.name = name
        self.in_flight = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def counting(self):
        with self._lock:
            self.in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--name", default="backend")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = Server((args.host, args.port), args.name)
    print(f"listening {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

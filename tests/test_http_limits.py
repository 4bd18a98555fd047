"""HTTP/1.1 protocol limits of the real binary, probed with raw sockets so that no client
library tidies the bytes: oversized request line, too many headers, oversized body, and
request-smuggling framing (Content-Length with Transfer-Encoding)."""

import json
import socket

import pytest

MAX_BODY_BYTES = 1024


@pytest.fixture(scope="module")
def node(sqlite_launcher):
    return sqlite_launcher.new(sections={"server": {"max_body_bytes": MAX_BODY_BYTES}})


class RawResponse:
    def __init__(self, status, headers, body, closed):
        self.status = status
        self.headers = headers
        self.body = body
        self.closed = closed  # the server closed the connection after this response

    def json(self):
        return json.loads(self.body)


def exchange(port, data: bytes, timeout=5.0, wait_for_close=False) -> RawResponse:
    """Sends `data` and reads one response. With `wait_for_close`, then waits (at most
    `timeout`) to see whether the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything; read on
        received = b""
        head_end = -1
        while head_end < 0:
            chunk = s.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed before a full response: {received!r}")
            received += chunk
            head_end = received.find(b"\r\n\r\n")
        head, rest = received[:head_end].decode("latin-1"), received[head_end + 4:]
        status_line, *field_lines = head.split("\r\n")
        status = int(status_line.split(" ")[1])
        headers = {}
        for line in field_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        closed = False
        try:
            while wait_for_close:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
        except socket.timeout:
            closed = False
        except ConnectionResetError:
            closed = True
        return RawResponse(status, headers, rest[:length], closed)


def request_bytes(port, method="GET", target="/oauth2/jwks", headers=(), body=b""):
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def assert_json_error(response: RawResponse, status):
    assert response.status == status, response.body
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == status
    assert body["message"]
    assert body["description"]


def test_valid_raw_request_is_answered_and_kept_alive(node):
    port = node.http_port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        for _ in range(2):  # two requests on one connection
            s.sendall(request_bytes(port))
            received = b""
            while b"\r\n\r\n" not in received:
                received += s.recv(65536)
            assert received.startswith(b"HTTP/1.1 200 ")
            head, _, body = received.partition(b"\r\n\r\n")
            length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")][0])
            while len(body) < length:
                body += s.recv(65536)


def test_request_line_over_8_kib_is_414(node):
    target = "/oauth2/jwks?q=" + "a" * (9 * 1024)
    response = exchange(node.http_port, request_bytes(node.http_port, target=target))
    assert_json_error(response, 414)


def test_more_than_100_header_fields_is_431(node):
    headers = [f"X-Filler-{i}: {i}" for i in range(101)]
    response = exchange(node.http_port, request_bytes(node.http_port, headers=headers))
    assert_json_error(response, 431)


def test_100_header_fields_are_accepted(node):
    headers = [f"X-Filler-{i}: {i}" for i in range(99)]  # plus Host: 100 fields
    response = exchange(node.http_port, request_bytes(node.http_port, headers=headers))
    assert response.status == 200


def test_body_over_the_configured_limit_is_413(node):
    body = b"grant_type=client_credentials&pad=" + b"x" * MAX_BODY_BYTES
    response = exchange(node.http_port, request_bytes(
        node.http_port, "POST", "/oauth2/token",
        ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"],
        body))
    assert_json_error(response, 413)


def test_chunked_body_over_the_configured_limit_is_413(node):
    payload = b"grant_type=client_credentials&pad=" + b"x" * MAX_BODY_BYTES
    chunked = b"%x\r\n" % len(payload) + payload + b"\r\n0\r\n\r\n"
    response = exchange(node.http_port, request_bytes(
        node.http_port, "POST", "/oauth2/token",
        ["Content-Type: application/x-www-form-urlencoded", "Transfer-Encoding: chunked"],
        chunked))
    assert_json_error(response, 413)


def test_content_length_with_transfer_encoding_is_400_and_closes(node):
    body = b"0\r\n\r\nGET /oauth2/jwks HTTP/1.1\r\nHost: x\r\n\r\n"
    response = exchange(node.http_port, request_bytes(
        node.http_port, "POST", "/oauth2/token",
        ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}",
         "Transfer-Encoding: chunked"], body), wait_for_close=True)
    assert_json_error(response, 400)
    assert response.closed, "the connection must be closed: its framing cannot be trusted"


def test_unknown_path_is_a_json_404(node):
    response = exchange(node.http_port, request_bytes(node.http_port, target="/no/such/path"))
    assert_json_error(response, 404)

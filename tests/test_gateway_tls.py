"""The gateway's HTTPS port: API calls verified against the node's self-signed certificate,
and TLS session resumption (TLS 1.2 and 1.3) for clients that reconnect, on whichever I/O
thread the new connection lands."""

from __future__ import annotations

import json
import socket
import ssl

import pytest
import requests

from gateway_support import backend_fixture, Caller, publish_api, wait_for_status


echo_backend = backend_fixture("tls")


@pytest.fixture(scope="module")
def api_call(node, echo_backend):
    api = publish_api(node, echo_backend.url)
    caller = Caller(node)
    caller.subscribe(api)
    token = caller.token()
    base = f"{api['context']}/1.0.0"
    wait_for_status(node, "GET", base + "/ready", 200, token)
    return base, token


def test_api_calls_over_https_verify_the_node_certificate(node, api_call):
    base, token = api_call
    with requests.Session() as s:
        s.trust_env = False
        s.verify = node.cert
        s.headers["Authorization"] = f"Bearer {token}"
        for i in range(3):  # one kept-alive TLS connection
            response = s.get(node.gateway_https_url + f"{base}/pets/{i}", timeout=10)
            assert response.status_code == 200, response.text
            echo = response.json()
            assert echo["path"] == f"/pets/{i}"
            assert echo["headers"]["x-forwarded-proto"] == "https"
        response = s.post(node.gateway_https_url + f"{base}/upload", data=b"t" * 300_000,
                          timeout=10)
        assert response.json()["body_length"] == 300_000
    # A client that does not trust the certificate does not get through.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(node.gateway_https_url + f"{base}/pets", timeout=10)


def tls_context(node, version: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=node.cert)
    ctx.minimum_version = version
    ctx.maximum_version = version
    return ctx


def exchange(node, ctx: ssl.SSLContext, path: str, token: str,
             session: ssl.SSLSession | None = None) -> tuple[ssl.SSLSocket, dict]:
    """One request on a new TLS connection (resuming `session` if given); returns the
    socket, still open, and the JSON answer. Reading the answer also reads the TLS 1.3
    session tickets the server sends after its handshake."""
    raw = socket.create_connection(("127.0.0.1", node.gateway_https_port), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1", session=session)
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
               f"Connection: close\r\n\r\n").encode())
    data = b""
    while True:
        piece = s.recv(65536)
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), head
    return s, json.loads(body)


@pytest.mark.parametrize("version", [pytest.param(ssl.TLSVersion.TLSv1_2, id="tls1.2"),
                                     pytest.param(ssl.TLSVersion.TLSv1_3, id="tls1.3")])
def test_tls_sessions_are_resumed(node, api_call, version):
    base, token = api_call
    ctx = tls_context(node, version)
    first, echo = exchange(node, ctx, f"{base}/first", token)
    assert first.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                               ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
    assert not first.session_reused
    session = first.session
    first.close()
    assert session is not None
    assert echo["path"] == "/first"
    # Several reconnections, so that both gateway I/O threads resume it.
    for i in range(4):
        again, echo = exchange(node, ctx, f"{base}/again/{i}", token, session=session)
        assert again.session_reused, f"reconnection {i} was a full handshake"
        assert echo["path"] == f"/again/{i}"
        session = again.session
        again.close()

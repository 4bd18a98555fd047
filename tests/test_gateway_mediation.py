"""What the gateway does to messages on their way through, end to end with a real backend:
CORS (preflights answered by the gateway, allow headers on normal responses), OPTIONS
answered with Allow, the operations' header policies on requests and responses, hop-by-hop
headers kept off the backend, the X-Forwarded-For trail, and the backend JWT
(X-JWT-Assertion) verified with the key the gateway publishes (docs/gateway.md)."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import requests

from devportal_support import PASSWORD, sign_up
from gateway_support import (Caller, backend_fixture, error_code, gateway, publish_api,
                             publisher, wait_for, wait_for_status)

ORIGIN = "https://app.example"


echo_backend = backend_fixture("mediation")


def ready_caller(node, api, path="/pets") -> tuple[Caller, str]:
    caller = Caller(node)
    caller.subscribe(api)
    token = caller.token()
    wait_for_status(node, "GET", f"{api['context']}/1.0.0{path}", 200, token)
    return caller, token


def cors_headers(response) -> dict:
    return {k.lower(): v for k, v in response.headers.items()
            if k.lower().startswith("access-control-")}


def vary(response) -> list[str]:
    return [v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()]


def preflight(node, path, origin=ORIGIN, method="POST", request_headers=None):
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if request_headers:
        headers["Access-Control-Request-Headers"] = request_headers
    return gateway(node, "OPTIONS", path, headers=headers)


# ---- CORS -------------------------------------------------------------------------------

PETS_OPERATIONS = [
    {"target": "/pets", "verb": "GET"},
    {"target": "/pets", "verb": "POST"},
    {"target": "/pets", "verb": "PUT"},
    {"target": "/other", "verb": "DELETE"},
]


@pytest.fixture(scope="module")
def cors_api(node, echo_backend):
    cors = {"corsConfigurationEnabled": True,
            "accessControlAllowOrigins": [ORIGIN, "https://*.example.org"],
            "accessControlAllowHeaders": ["authorization", "content-type", "x-custom"],
            "accessControlAllowMethods": ["GET", "POST", "DELETE"],
            "accessControlAllowCredentials": False}
    return publish_api(node, echo_backend.url, corsConfiguration=cors,
                       operations=PETS_OPERATIONS)


@pytest.fixture(scope="module")
def cors_token(node, cors_api):
    return ready_caller(node, cors_api)[1]


def test_a_preflight_is_answered_by_the_gateway(node, cors_api, cors_token):
    response = preflight(node, f"{cors_api['context']}/1.0.0/pets",
                         request_headers="content-type")
    assert response.status_code == 200, response.text
    # Answered without credentials and without the backend.
    assert "X-Backend" not in response.headers
    assert response.content == b""
    assert cors_headers(response) == {
        "access-control-allow-origin": ORIGIN,
        # The configured methods the path has resources for (PUT is not configured, DELETE
        # is on another path).
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": "authorization, content-type, x-custom",
    }
    assert "origin" in vary(response)


def test_a_preflight_from_an_origin_pattern(node, cors_api, cors_token):
    response = preflight(node, f"{cors_api['context']}/1.0.0/other", "https://shop.example.org",
                         "DELETE")
    assert response.status_code == 200
    assert "X-Backend" not in response.headers
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example.org"
    assert response.headers["Access-Control-Allow-Methods"] == "DELETE"


@pytest.mark.parametrize("origin", ["https://evil.example", "http://app.example",
                                    "https://app.example.evil", "https://a/b.example.org"])
def test_a_preflight_from_a_disallowed_origin_gets_no_allow_headers(node, cors_api, cors_token,
                                                                    origin):
    response = preflight(node, f"{cors_api['context']}/1.0.0/pets", origin)
    assert response.status_code == 200
    assert "X-Backend" not in response.headers
    assert cors_headers(response) == {}


def test_normal_responses_carry_the_allowed_origin(node, cors_api, cors_token):
    path = f"{cors_api['context']}/1.0.0/pets"
    response = gateway(node, "GET", path, cors_token, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["X-Backend"] == "mediation"
    assert response.json()["headers"]["origin"] == ORIGIN
    assert cors_headers(response) == {"access-control-allow-origin": ORIGIN}
    assert "origin" in vary(response)
    # A disallowed origin gets none, a request without Origin neither.
    response = gateway(node, "GET", path, cors_token, headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert cors_headers(response) == {}
    assert cors_headers(gateway(node, "GET", path, cors_token)) == {}


def test_refusals_carry_the_allowed_origin(node, cors_api, cors_token):
    # A page must be able to read why its call was refused.
    response = gateway(node, "GET", f"{cors_api['context']}/1.0.0/pets",
                       headers={"Origin": ORIGIN})
    assert response.status_code == 401
    assert error_code(response) == 900902
    assert response.headers.get("Access-Control-Allow-Origin") == ORIGIN


def test_a_preflight_on_the_default_version_path(node, echo_backend):
    api = publish_api(node, echo_backend.url, isDefaultVersion=True, corsConfiguration={
        "corsConfigurationEnabled": True, "accessControlAllowOrigins": [ORIGIN]})
    ready_caller(node, api)
    response = preflight(node, f"{api['context']}/pets", method="GET")
    assert response.status_code == 200
    assert "X-Backend" not in response.headers
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_a_wildcard_origin(node, echo_backend):
    api = publish_api(node, echo_backend.url, corsConfiguration={
        "corsConfigurationEnabled": True, "accessControlAllowOrigins": ["*"]})
    _, token = ready_caller(node, api)
    path = f"{api['context']}/1.0.0/pets"
    response = preflight(node, path, "https://anyone.example", "GET", "X-Whatever")
    assert response.status_code == 200
    assert "X-Backend" not in response.headers
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "origin" not in vary(response)
    response = gateway(node, "GET", path, token, headers={"Origin": "https://anyone.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_wildcard_origin_with_credentials_is_echoed(node, echo_backend):
    api = publish_api(node, echo_backend.url, corsConfiguration={
        "corsConfigurationEnabled": True, "accessControlAllowOrigins": ["*"],
        "accessControlAllowCredentials": True, "accessControlAllowHeaders": ["*"]})
    _, token = ready_caller(node, api)
    path = f"{api['context']}/1.0.0/pets"
    response = preflight(node, path, "https://anyone.example", "GET", "x-a, x-b")
    assert response.headers["Access-Control-Allow-Origin"] == "https://anyone.example"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    # "*" echoes the headers the browser asked for.
    assert response.headers["Access-Control-Allow-Headers"] == "x-a, x-b"
    assert "origin" in vary(response)
    response = gateway(node, "GET", path, token, headers={"Origin": "https://anyone.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://anyone.example"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


@pytest.fixture(scope="module")
def plain_api(node, echo_backend):
    """CORS off (the publisher's default), no OPTIONS resource."""
    return publish_api(node, echo_backend.url, operations=PETS_OPERATIONS)


@pytest.fixture(scope="module")
def plain_token(node, plain_api):
    return ready_caller(node, plain_api)[1]


def test_without_cors_a_preflight_is_an_ordinary_options(node, plain_api, plain_token):
    response = preflight(node, f"{plain_api['context']}/1.0.0/pets")
    assert response.status_code == 200
    assert "X-Backend" not in response.headers
    assert response.headers["Allow"] == "GET, POST, PUT, OPTIONS"
    assert cors_headers(response) == {}
    response = gateway(node, "GET", f"{plain_api['context']}/1.0.0/pets", plain_token,
                       headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert cors_headers(response) == {}


def test_options_without_an_options_resource_is_answered_with_allow(node, plain_api,
                                                                    plain_token):
    response = gateway(node, "OPTIONS", f"{plain_api['context']}/1.0.0/other")
    assert response.status_code == 200
    assert "X-Backend" not in response.headers
    assert response.headers["Allow"] == "DELETE, OPTIONS"
    assert response.content == b""
    # A path without any resource is no resource, OPTIONS or not.
    response = gateway(node, "OPTIONS", f"{plain_api['context']}/1.0.0/nothing")
    assert response.status_code == 403
    assert error_code(response) == 900906


def test_an_options_resource_answers_preflights_itself(node, echo_backend):
    operations = [{"target": "/pets", "verb": "GET"},
                  {"target": "/pets", "verb": "OPTIONS", "authType": "None"}]
    api = publish_api(node, echo_backend.url, operations=operations, corsConfiguration={
        "corsConfigurationEnabled": True, "accessControlAllowOrigins": [ORIGIN]})
    ready_caller(node, api)
    response = preflight(node, f"{api['context']}/1.0.0/pets", method="GET")
    assert response.status_code == 200
    assert response.headers["X-Backend"] == "mediation"
    echo = response.json()
    assert echo["method"] == "OPTIONS"
    assert echo["headers"]["access-control-request-method"] == "GET"


# ---- header policies --------------------------------------------------------------------

def add(name, value):
    return {"policyName": "addHeader", "policyVersion": "v1",
            "parameters": {"headerName": name, "headerValue": value}}


def remove(name):
    return {"policyName": "removeHeader", "policyVersion": "v1",
            "parameters": {"headerName": name}}


@pytest.fixture(scope="module")
def policy_api(node, echo_backend):
    operations = [
        {"target": "/pets", "verb": "GET", "operationPolicies": {
            "request": [add("X-Added", "from-gateway"), remove("X-Remove-Me"),
                        add("X-Override", "gateway-value"), add("X-Transient", "t"),
                        remove("X-Transient")],
            "response": [add("X-Resp-Added", "r1"), remove("X-Echo-Method"),
                         add("X-Backend", "replaced")],
            "fault": []}},
        {"target": "/plain", "verb": "GET"},
    ]
    return publish_api(node, echo_backend.url, operations=operations)


@pytest.fixture(scope="module")
def policy_token(node, policy_api):
    return ready_caller(node, policy_api)[1]


def test_request_header_policies_are_seen_by_the_backend(node, policy_api, policy_token):
    response = gateway(node, "GET", f"{policy_api['context']}/1.0.0/pets", policy_token,
                       headers={"X-Remove-Me": "secret", "X-Override": "client-value",
                                "X-Transient": "client", "X-Kept": "kept"})
    assert response.status_code == 200, response.text
    echo = response.json()
    headers = echo["headers"]
    assert headers["x-added"] == "from-gateway"
    assert "x-remove-me" not in headers
    assert "x-transient" not in headers
    assert headers["x-kept"] == "kept"
    # addHeader replaces the client's value: one field line, the gateway's.
    overrides = [v for k, v in echo["header_list"] if k.lower() == "x-override"]
    assert overrides == ["gateway-value"]


def test_response_header_policies_are_seen_by_the_client(node, policy_api, policy_token):
    response = gateway(node, "GET", f"{policy_api['context']}/1.0.0/pets", policy_token)
    assert response.status_code == 200
    assert response.headers["X-Resp-Added"] == "r1"
    assert "X-Echo-Method" not in response.headers
    assert response.headers["X-Backend"] == "replaced"
    assert response.raw.headers.getlist("X-Backend") == ["replaced"]


def test_header_policies_apply_to_their_operation_only(node, policy_api, policy_token):
    response = gateway(node, "GET", f"{policy_api['context']}/1.0.0/plain", policy_token,
                       headers={"X-Remove-Me": "secret"})
    assert response.status_code == 200
    assert response.json()["headers"]["x-remove-me"] == "secret"
    assert "x-added" not in response.json()["headers"]
    assert response.headers["X-Echo-Method"] == "GET"
    assert response.headers["X-Backend"] == "mediation"
    assert "X-Resp-Added" not in response.headers


def test_response_policies_do_not_touch_the_gateways_own_replies(node, policy_api,
                                                                 policy_token):
    response = gateway(node, "GET", f"{policy_api['context']}/1.0.0/pets")
    assert response.status_code == 401
    assert "X-Resp-Added" not in response.headers


def test_a_policy_on_a_framing_header_is_refused(node, echo_backend):
    api = publish_api(node, echo_backend.url, publish=False)
    current = publisher(node, "GET", f"/apis/{api['id']}").json()
    for name in ["Connection", "Transfer-Encoding", "Content-Length", "Host"]:
        current["operations"] = [{"target": "/x", "verb": "GET", "operationPolicies": {
            "request": [add(name, "x")], "response": [], "fault": []}}]
        response = publisher(node, "PUT", f"/apis/{api['id']}", json=current)
        assert response.status_code == 400, (name, response.text)


# ---- hop-by-hop headers and X-Forwarded-For -----------------------------------------------

def raw_request(node, head_lines: list[str]) -> tuple[int, bytes]:
    """One request written by hand (for field lines requests cannot send), Connection:
    close; returns the status and the body."""
    with socket.create_connection(("127.0.0.1", node.gateway_http_port), timeout=10) as s:
        s.sendall(("\r\n".join(head_lines) + "\r\n\r\n").encode())
        data = b""
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        out, rest = b"", body
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            out, rest = out + rest[:size], rest[size + 2:]
        body = out
    return status, body


def test_hop_by_hop_headers_are_not_forwarded(node, plain_api, plain_token):
    response = gateway(node, "GET", f"{plain_api['context']}/1.0.0/pets", plain_token, headers={
        "Connection": "keep-alive, X-Secret", "X-Secret": "s3cret", "Keep-Alive": "timeout=5",
        "TE": "trailers", "Upgrade": "h2c", "Proxy-Connection": "keep-alive",
        "X-Visible": "yes"})
    assert response.status_code == 200, response.text
    headers = response.json()["headers"]
    for name in ["x-secret", "keep-alive", "te", "upgrade", "proxy-connection"]:
        assert name not in headers, name
    assert headers["x-visible"] == "yes"


def test_fields_named_in_any_connection_line_are_not_forwarded(node, plain_api, plain_token):
    # Connection is a list too: a field named in its second line is as hop-by-hop as one
    # named in the first.
    status, body = raw_request(node, [
        f"GET {plain_api['context']}/1.0.0/pets HTTP/1.1",
        f"Host: 127.0.0.1:{node.gateway_http_port}",
        f"Authorization: Bearer {plain_token}",
        "Connection: close",
        "Connection: X-Secret",
        "X-Secret: s3cret"])
    assert status == 200, body
    assert "x-secret" not in json.loads(body)["headers"]


def test_x_forwarded_for_is_appended_to(node, plain_api, plain_token):
    path = f"{plain_api['context']}/1.0.0/pets"
    response = gateway(node, "GET", path, plain_token, headers={
        "X-Forwarded-For": "203.0.113.7, 198.51.100.2", "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "spoofed.example"})
    headers = response.json()["headers"]
    assert headers["x-forwarded-for"] == "203.0.113.7, 198.51.100.2, 127.0.0.1"
    # Proto and host are the gateway's own knowledge, not the client's claims.
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == f"127.0.0.1:{node.gateway_http_port}"


def test_x_forwarded_for_in_several_field_lines_keeps_them_all(node, plain_api, plain_token):
    # Field lines of one name are one comma-separated list (RFC 9110 §5.3): none may be lost.
    status, body = raw_request(node, [
        f"GET {plain_api['context']}/1.0.0/pets HTTP/1.1",
        f"Host: 127.0.0.1:{node.gateway_http_port}",
        f"Authorization: Bearer {plain_token}",
        "X-Forwarded-For: 203.0.113.7",
        "X-Forwarded-For: 198.51.100.2",
        "Connection: close"])
    assert status == 200, body
    forwarded = [v for k, v in json.loads(body)["header_list"] if k.lower() == "x-forwarded-for"]
    assert ", ".join(forwarded) == "203.0.113.7, 198.51.100.2, 127.0.0.1"


class _FixedHeadersHandler(BaseHTTPRequestHandler):
    """Answers every request with fixed response fields, some of them repeated."""
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        body = b"fixed"
        self.send_response(200)
        for name, value in [("Connection", "keep-alive"), ("Connection", "X-Hop"),
                            ("X-Hop", "hop-secret"), ("Keep-Alive", "timeout=5"),
                            ("Proxy-Connection", "keep-alive"), ("Upgrade", "h2c"),
                            ("Vary", "Accept-Encoding"), ("X-Multi", "one"),
                            ("X-Multi", "two"), ("X-End", "kept")]:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def fixed_backend():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FixedHeadersHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def fixed_api(node, fixed_backend):
    return publish_api(node, fixed_backend, corsConfiguration={
        "corsConfigurationEnabled": True, "accessControlAllowOrigins": [ORIGIN]},
        operations=[{"target": "/fixed", "verb": "GET", "operationPolicies": {
            "request": [], "response": [remove("X-Multi")], "fault": []}},
                    {"target": "/plain", "verb": "GET"}])


def test_hop_by_hop_response_headers_are_not_returned(node, fixed_api):
    _, token = ready_caller(node, fixed_api, "/plain")
    response = gateway(node, "GET", f"{fixed_api['context']}/1.0.0/plain", token)
    assert response.status_code == 200 and response.content == b"fixed"
    for name in ["Keep-Alive", "Proxy-Connection", "Upgrade"]:
        assert name not in response.headers, name
    assert response.headers["X-End"] == "kept"
    assert response.raw.headers.getlist("X-Multi") == ["one", "two"]


def test_fields_named_in_any_connection_line_of_a_response_are_not_returned(node, fixed_api):
    _, token = ready_caller(node, fixed_api, "/plain")
    response = gateway(node, "GET", f"{fixed_api['context']}/1.0.0/plain", token)
    assert response.status_code == 200
    assert "X-Hop" not in response.headers


def test_remove_header_removes_every_line_and_vary_is_kept(node, fixed_api):
    _, token = ready_caller(node, fixed_api, "/plain")
    response = gateway(node, "GET", f"{fixed_api['context']}/1.0.0/fixed", token,
                       headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert "X-Multi" not in response.headers
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    # The backend's Vary stays beside the gateway's.
    assert {"accept-encoding", "origin"} <= set(vary(response))


# ---- backend JWT ------------------------------------------------------------------------

DIALECT = "http://wso2.org/claims/"


@pytest.fixture(scope="module")
def jwt_node(module_launcher):
    return module_launcher.new(sections={"gateway": {"backend_jwt": True}})


jwt_backend = backend_fixture("jwt")


@pytest.fixture(scope="module")
def jwt_api(jwt_node, jwt_backend):
    return publish_api(jwt_node, jwt_backend.url, operations=[
        {"target": "/pets", "verb": "GET"},
        {"target": "/open", "verb": "GET", "authType": "None"}])


def backend_jwt_key(node):
    response = requests.get(node.gateway_admin_url + "/backend-jwt/jwks", timeout=10)
    assert response.status_code == 200, response.text
    keys = response.json()["keys"]
    assert len(keys) == 1
    return keys[0]


def verify_assertion(node, assertion: str) -> dict:
    jwk = backend_jwt_key(node)
    header = jwt.get_unverified_header(assertion)
    assert header["alg"] == "RS256"
    assert header.get("kid") == jwk.get("kid")
    return jwt.decode(assertion, jwt.PyJWK(jwk).key, algorithms=["RS256"],
                      issuer="wso2.org/products/am",
                      options={"require": ["exp", "iat", "iss"], "verify_aud": False})


def test_the_backend_receives_a_verifiable_jwt(jwt_node, jwt_api):
    caller = Caller(jwt_node)
    subscription = caller.subscribe(jwt_api)
    token = caller.token()
    path = f"{jwt_api['context']}/1.0.0/pets"
    response = wait_for_status(jwt_node, "GET", path, 200, token,
                               headers={"X-JWT-Assertion": "forged.by.client"})
    headers = response.json()["headers"]
    assert "authorization" not in headers
    claims = verify_assertion(jwt_node, headers["x-jwt-assertion"])
    assert isinstance(claims["exp"], int) and isinstance(claims["iat"], int)
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 60
    username = caller.developer.username
    expected = {
        "subscriber": username,
        "applicationid": caller.app["applicationId"],
        "applicationUUId": caller.app["applicationId"],
        "applicationname": caller.app["name"],
        "applicationtier": "Unlimited",
        "apiname": jwt_api["name"],
        "apicontext": f"{jwt_api['context']}/1.0.0",
        "version": "1.0.0",
        "tier": subscription["throttlingPolicy"],
        "keytype": "PRODUCTION",
        "usertype": "APPLICATION",
        "enduser": username,
        "enduserTenantId": "-1234",
    }
    assert {k: claims.get(DIALECT + k) for k in expected} == expected


def test_a_user_token_makes_an_application_user_jwt(jwt_node, jwt_api):
    caller = Caller(jwt_node)
    caller.subscribe(jwt_api)
    caller.credentials(grants=["client_credentials", "password"])
    user = sign_up(jwt_node)
    token = caller.token(grant={"grant_type": "password", "username": user.username,
                                "password": PASSWORD})
    response = wait_for_status(jwt_node, "GET", f"{jwt_api['context']}/1.0.0/pets", 200, token)
    claims = verify_assertion(jwt_node, response.json()["headers"]["x-jwt-assertion"])
    assert claims[DIALECT + "usertype"] == "APPLICATION_USER"
    assert claims[DIALECT + "enduser"] == user.username
    assert claims[DIALECT + "subscriber"] == caller.developer.username


def test_the_assertion_follows_a_configuration_change(jwt_node, jwt_api):
    caller = Caller(jwt_node)
    caller.subscribe(jwt_api)
    token = caller.token()
    path = f"{jwt_api['context']}/1.0.0/pets"

    def tier_claim(response):
        claims = verify_assertion(jwt_node, response.json()["headers"]["x-jwt-assertion"])
        return claims[DIALECT + "applicationtier"]

    assert tier_claim(wait_for_status(jwt_node, "GET", path, 200, token)) == "Unlimited"
    app = caller.app
    body = {"name": app["name"], "throttlingPolicy": "10PerMin",
            "tokenType": app.get("tokenType", "JWT"), "description": "changed"}
    response = caller.developer.put(f"/applications/{app['applicationId']}", json=body)
    assert response.status_code == 200, response.text
    # Every gateway thread renews its cached token with the new configuration.
    wait_for(lambda: tier_claim(gateway(jwt_node, "GET", path, token)) == "10PerMin")
    for _ in range(4):
        assert tier_claim(gateway(jwt_node, "GET", path, token)) == "10PerMin"


def test_an_anonymous_call_carries_no_assertion(jwt_node, jwt_api):
    caller = Caller(jwt_node)
    caller.subscribe(jwt_api)
    wait_for_status(jwt_node, "GET", f"{jwt_api['context']}/1.0.0/pets", 200, caller.token())
    response = gateway(jwt_node, "GET", f"{jwt_api['context']}/1.0.0/open",
                       headers={"X-JWT-Assertion": "forged.by.client"})
    assert response.status_code == 200, response.text
    assert "x-jwt-assertion" not in response.json()["headers"]


def test_without_backend_jwt_there_is_no_assertion_nor_key(node, plain_api, plain_token):
    response = gateway(node, "GET", f"{plain_api['context']}/1.0.0/pets", plain_token)
    assert "x-jwt-assertion" not in response.json()["headers"]
    assert requests.get(node.gateway_admin_url + "/backend-jwt/jwks",
                        timeout=10).status_code == 404

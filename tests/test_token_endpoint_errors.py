"""Every bad token request gets its RFC 6749 §5.2 error, is not cached, and changes nothing:
most cases below carry a valid refresh token, which must stay valid afterwards."""

import pytest

from portico_node import ADMIN_USERNAME

VALID_REFRESH_TOKENS = "used = 0 AND revoked = 0"


@pytest.fixture(scope="module")
def node(module_launcher):
    # The cases send wrong secrets and passwords on purpose, many times over; the failed-login
    # lock (tests/test_security_passwords.py) must not turn later cases into "locked".
    return module_launcher.new(sections={"security": {
        "max_failed_logins": 1000, "max_failed_logins_per_address": 100000}})


@pytest.fixture(scope="module")
def client(node):
    return node.register_client(grantType="password refresh_token")


@pytest.fixture(scope="module")
def cc_only_client(node):
    return node.register_client(grantType="client_credentials")


@pytest.fixture
def refresh_token(node, client):
    """A fresh one per test, so that a request that wrongly burns it fails only its own test."""
    response = node.token(client, {"grant_type": "password", "username": ADMIN_USERNAME,
                                   "password": node.admin_password})
    assert response.status_code == 200, response.text
    return response.json()["refresh_token"]


def basic(client, secret=None):
    return (client["clientId"], client["clientSecret"] if secret is None else secret)


# Each case: (id, expected status, expected error, a function building requests.post kwargs
# from (client, cc_only_client, refresh_token)).
CASES = [
    ("missing-grant-type", 400, "invalid_request",
     lambda c, cc, rt: {"data": {"refresh_token": rt}, "auth": basic(c)}),
    ("empty-grant-type", 400, "invalid_request",
     lambda c, cc, rt: {"data": {"grant_type": "", "refresh_token": rt}, "auth": basic(c)}),
    ("unknown-grant-type", 400, "unsupported_grant_type",
     lambda c, cc, rt: {"data": {"grant_type": "urn:example:nosuch", "refresh_token": rt},
                        "auth": basic(c)}),
    ("wrong-secret", 401, "invalid_client",
     lambda c, cc, rt: {"data": {"grant_type": "refresh_token", "refresh_token": rt},
                        "auth": basic(c, "wrong-secret")}),
    ("wrong-secret-in-body", 401, "invalid_client",
     lambda c, cc, rt: {"data": {"grant_type": "refresh_token", "refresh_token": rt,
                                 "client_id": c["clientId"], "client_secret": "wrong"}}),
    ("client-id-without-secret", 401, "invalid_client",
     lambda c, cc, rt: {"data": {"grant_type": "refresh_token", "refresh_token": rt,
                                 "client_id": c["clientId"]}}),
    ("unknown-client", 401, "invalid_client",
     lambda c, cc, rt: {"data": {"grant_type": "refresh_token", "refresh_token": rt},
                        "auth": ("no-such-client", "secret")}),
    ("no-client-authentication", 401, "invalid_client",
     lambda c, cc, rt: {"data": {"grant_type": "refresh_token", "refresh_token": rt}}),
    ("grant-not-allowed-for-client", 400, "unauthorized_client",
     lambda c, cc, rt: {"data": {"grant_type": "refresh_token", "refresh_token": rt},
                        "auth": basic(cc)}),
    ("password-grant-not-allowed-for-client", 400, "unauthorized_client",
     lambda c, cc, rt: {"data": {"grant_type": "password", "username": ADMIN_USERNAME,
                                 "password": "x"}, "auth": basic(cc)}),
    ("json-body", 400, "invalid_request",
     lambda c, cc, rt: {"json": {"grant_type": "refresh_token", "refresh_token": rt},
                        "auth": basic(c)}),
    ("repeated-refresh-token", 400, "invalid_request",
     lambda c, cc, rt: {"data": [("grant_type", "refresh_token"), ("refresh_token", rt),
                                 ("refresh_token", rt)], "auth": basic(c)}),
    ("repeated-grant-type", 400, "invalid_request",
     lambda c, cc, rt: {"data": [("grant_type", "refresh_token"), ("grant_type", "refresh_token"),
                                 ("refresh_token", rt)], "auth": basic(c)}),
    ("credentials-in-header-and-body", 400, "invalid_request",
     lambda c, cc, rt: {"data": {"grant_type": "refresh_token", "refresh_token": rt,
                                 "client_id": c["clientId"], "client_secret": c["clientSecret"]},
                        "auth": basic(c)}),
    ("missing-refresh-token", 400, "invalid_request",
     lambda c, cc, rt: {"data": {"grant_type": "refresh_token"}, "auth": basic(c)}),
    ("unknown-refresh-token", 400, "invalid_grant",
     lambda c, cc, rt: {"data": {"grant_type": "refresh_token", "refresh_token": rt + "x"},
                        "auth": basic(c)}),
    ("wider-scope", 400, "invalid_scope",
     lambda c, cc, rt: {"data": {"grant_type": "refresh_token", "refresh_token": rt,
                                 "scope": "default apim:admin"}, "auth": basic(c)}),
]

def send(node, build, client, cc_only_client, refresh_token):
    return node.post("/oauth2/token", **build(client, cc_only_client, refresh_token))


@pytest.mark.parametrize("status,error,build", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_token_request_gets_its_error_and_is_not_cached(node, client, cc_only_client,
                                                             refresh_token, status, error, build):
    response = send(node, build, client, cc_only_client, refresh_token)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error
    assert "access_token" not in body
    assert response.headers.get("Cache-Control") == "no-store"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("build", [pytest.param(c[3], id=c[0]) for c in CASES])
def test_bad_token_request_leaves_the_refresh_token_valid(node, client, cc_only_client,
                                                          refresh_token, build):
    send(node, build, client, cc_only_client, refresh_token)
    assert node.introspect(refresh_token)["active"] is True


def test_bad_token_requests_store_nothing_and_a_valid_request_still_works(
        node, client, cc_only_client, refresh_token):
    valid_before = node.count("refresh_tokens", VALID_REFRESH_TOKENS)
    all_before = node.count("refresh_tokens")
    for _, _, _, build in CASES:
        send(node, build, client, cc_only_client, refresh_token)
    assert node.count("refresh_tokens") == all_before
    assert node.count("refresh_tokens", VALID_REFRESH_TOKENS) == valid_before

    # The refresh token survived every one of them: it rotates once, normally.
    response = node.token(client, {"grant_type": "refresh_token", "refresh_token": refresh_token})
    assert response.status_code == 200, response.text
    assert node.count("refresh_tokens", VALID_REFRESH_TOKENS) == valid_before


def test_form_content_type_with_charset_is_accepted(node, client):
    form = "grant_type=password&username=admin&password=" + node.admin_password
    content_type = "application/x-www-form-urlencoded; charset=UTF-8"
    response = node.post("/oauth2/token", data=form, auth=basic(client),
                         headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text


def test_token_endpoint_rejects_get(node):
    response = node.get("/oauth2/token")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_successful_token_response_is_not_cached(node, client):
    response = node.token(client, {"grant_type": "password", "username": ADMIN_USERNAME,
                                   "password": node.admin_password})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers.get("Pragma") == "no-cache"

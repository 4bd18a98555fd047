"""Authentication and authorization at the gateway, end to end: tokens of every grant type,
opaque tokens, API keys (header, custom header, query parameter), HTTP Basic users from
SCIM, the refusals for missing, invalid, expired, forged and revoked credentials, the
subscription states, resource scopes, authType, key types and their endpoints, and what the
backend is (not) given of the caller's credential.

Each API call goes through the gateway's own port to real backend processes
(tests/gateway_backend.py) that echo what they received. Codes and statuses are the
reference's (shared/reference/gateway-error-codes.md, docs/gateway.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.parse
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devportal_support import PASSWORD as DEV_PASSWORD
from devportal_support import sign_up
from gateway_support import (backend_fixture, Caller, endpoint_config, error_code, gateway,
                             publish_api, publisher, wait_for_status)
from html_forms import FormParser
from portico_node import is_jwt

CALLBACK = "https://app.example/cb"
SCIM_USERS = "/scim2/Users"
SCIM_PASSWORD = "basic-password-1"


# ---- helpers of this module --------------------------------------------------------------

class AppCaller(Caller):
    """A Caller whose application is created with extra fields (tokenType)."""

    def __init__(self, node, **app_fields):
        self.node = node
        self.developer = sign_up(node)
        app_fields.setdefault("policy", "Unlimited")
        self.app = self.developer.create_app(**app_fields)
        self.keys = {}


def keys_with(caller: Caller, key_type: str = "PRODUCTION", **fields) -> tuple[str, str]:
    """Generates the caller's keys of `key_type` with explicit generate-keys fields."""
    assert key_type not in caller.keys
    caller.keys[key_type] = caller.developer.generate_keys(caller.app["applicationId"],
                                                           key_type, **fields)
    return caller.credentials(key_type)


def token_response(caller: Caller, data: dict, key_type: str = "PRODUCTION") -> dict:
    response = caller.node.request("POST", caller.node.token_url, data=data,
                                   auth=caller.credentials(key_type))
    assert response.status_code == 200, response.text
    return response.json()


def revoke_token(caller: Caller, token: str, key_type: str = "PRODUCTION") -> None:
    response = caller.node.request("POST", caller.node.https_url + "/oauth2/revoke",
                                   data={"token": token}, auth=caller.credentials(key_type))
    assert response.status_code == 200, response.text


def revoke_api_key(caller: Caller, key: str, key_type: str = "PRODUCTION") -> None:
    response = caller.developer.post(
        f"/applications/{caller.app['applicationId']}/api-keys/{key_type}/revoke",
        json={"apikey": key})
    assert response.status_code == 200, response.text




def authorization_code_token(caller: Caller) -> str:
    """The authorization-code grant with PKCE S256, the developer signing in at the login
    page; the caller's PRODUCTION keys must allow it with CALLBACK as redirect URI."""
    node = caller.node
    client_id, secret = caller.credentials()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(8)
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
        "state": state, "code_challenge": challenge, "code_challenge_method": "S256"})
    page = node.request("GET", node.https_url + "/oauth2/authorize?" + query)
    assert page.status_code == 200, page.text
    parser = FormParser()
    parser.feed(page.text)
    form = parser.forms[0]
    fields = dict(form["fields"], username=caller.developer.username, password=DEV_PASSWORD)
    signed_in = node.request("POST", urllib.parse.urljoin(node.https_url, form["action"]),
                             data=fields)
    assert signed_in.status_code == 302, signed_in.text
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(
        signed_in.headers["Location"]).query))
    assert back["state"] == state
    tokens = token_response(caller, {"grant_type": "authorization_code", "code": back["code"],
                                     "redirect_uri": CALLBACK, "code_verifier": verifier})
    return tokens["access_token"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unverified(token: str) -> tuple[dict, dict]:
    return jwt.get_unverified_header(token), jwt.decode(token,
                                                        options={"verify_signature": False})


def scim_user(node, roles: list[str]) -> dict:
    """A user created through SCIM; returns the SCIM resource (with its id)."""
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "basic" + uuid.uuid4().hex[:8], "password": SCIM_PASSWORD,
            "roles": [{"value": r} for r in roles]}
    response = node.request("POST", node.https_url + SCIM_USERS, json=body,
                            auth=node.admin_auth)
    assert response.status_code == 201, response.text
    return response.json()


def basic(username: str, password: str) -> dict:
    value = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": "Basic " + value}


def challenges(response) -> list[str]:
    return response.raw.headers.getlist("WWW-Authenticate")


def assert_refused(response, status: int, code: int) -> None:
    assert (response.status_code, error_code(response)) == (status, code), \
        f"{response.status_code} {response.text}"
    assert response.headers["Content-Type"].startswith("application/json")
    if status == 401:
        assert challenges(response), "a 401 without WWW-Authenticate"


def wait_until_gateway_ready(node, timeout: float = 15.0) -> None:
    """Node.start() returns once the control plane answers; the gateway's listeners open a
    moment later."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(node.gateway_admin_url + "/health/ready", timeout=2).status_code \
                    == 200:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "the gateway did not become ready"
        time.sleep(0.05)


def set_subscription(node, subscription_id: str, state: str) -> None:
    if state == "UNBLOCKED":
        response = publisher(node, "POST", "/subscriptions/unblock-subscription",
                             params={"subscriptionId": subscription_id})
    else:
        response = publisher(node, "POST", "/subscriptions/block-subscription",
                             params={"subscriptionId": subscription_id, "blockState": state})
    assert response.status_code == 200, response.text


# ---- the shared node's backends, APIs and callers -----------------------------------------

prod_backend = backend_fixture("prod")


sandbox_backend = backend_fixture("sandbox")


def operations(*specs) -> list[dict]:
    out = []
    for target, fields in specs:
        op = {"target": target, "verb": "GET", "throttlingPolicy": "Unlimited"}
        op.update(fields)
        out.append(op)
    return out


@pytest.fixture(scope="module")
def scope_names():
    suffix = uuid.uuid4().hex[:6]
    return {"free": f"pets_read_{suffix}", "subscriber": f"pets_sub_{suffix}",
            "admin": f"pets_admin_{suffix}"}


@pytest.fixture(scope="module")
def api(node, prod_backend, sandbox_backend, scope_names):
    """OAuth2 and API keys, production and sandbox endpoints, scoped and typed resources."""
    s = scope_names
    return publish_api(
        node, endpoint=endpoint_config(prod_backend.url + "/prod", sandbox_backend.url + "/sb"),
        securityScheme=["oauth2", "api_key"],
        scopes=[{"scope": {"name": s["free"], "displayName": "read", "bindings": []}},
                {"scope": {"name": s["subscriber"], "displayName": "sub",
                           "bindings": ["subscriber"]}},
                {"scope": {"name": s["admin"], "displayName": "admin",
                           "bindings": ["admin"]}}],
        operations=operations(
            ("/pets", {}),
            ("/scoped", {"scopes": [s["free"]]}),
            ("/bound-subscriber", {"scopes": [s["subscriber"]]}),
            ("/bound-admin", {"scopes": [s["admin"]]}),
            ("/user-only", {"authType": "Application User"}),
            ("/app-only", {"authType": "Application"}),
            ("/open", {"authType": "None"})))


def path(api: dict, resource: str) -> str:
    return f"{api['context']}/1.0.0{resource}"


@pytest.fixture(scope="module")
def caller(node, api):
    """Subscribed to `api`, production keys allowing every grant type."""
    c = Caller(node)
    c.subscribe(api)
    keys_with(c, grantTypesToBeSupported=["client_credentials", "password", "refresh_token",
                                          "authorization_code"], callbackUrl=CALLBACK)
    return c


@pytest.fixture(scope="module")
def token(node, api, caller):
    t = caller.token()
    wait_for_status(node, "GET", path(api, "/pets"), 200, t)
    return t


@pytest.fixture(scope="module")
def user_token(caller, token):
    return token_response(caller, {"grant_type": "password",
                                   "username": caller.developer.username,
                                   "password": DEV_PASSWORD})["access_token"]


# ---- tokens of every kind ----------------------------------------------------------------

def test_a_token_of_every_grant_type_reaches_the_backend(node, api, caller, token):
    grant = token_response(caller, {"grant_type": "password",
                                    "username": caller.developer.username,
                                    "password": DEV_PASSWORD})
    refreshed = token_response(caller, {"grant_type": "refresh_token",
                                        "refresh_token": grant["refresh_token"]})
    tokens = {"client_credentials": token, "password": grant["access_token"],
              "refresh_token": refreshed["access_token"],
              "authorization_code": authorization_code_token(caller)}
    for name, t in tokens.items():
        # The scheme name is case-insensitive (RFC 7235 §2.1).
        response = gateway(node, "GET", path(api, "/pets?n=1"),
                           headers={"Authorization": f"bearer {t}"})
        assert response.status_code == 200, f"{name}: {response.status_code} {response.text}"
        echo = response.json()
        assert echo["backend"] == "prod"
        assert echo["path"] == "/prod/pets"
        assert echo["query"] == "n=1"
        # The checked credential stays at the gateway.
        assert "authorization" not in echo["headers"], name


def test_an_opaque_token_of_an_oauth_application_is_introspected_and_revocable(node, api):
    c = AppCaller(node, tokenType="OAUTH")
    c.subscribe(api)
    t = c.token()
    assert not is_jwt(t)
    response = wait_for_status(node, "GET", path(api, "/pets"), 200, t)
    assert response.json()["backend"] == "prod"
    # A made-up opaque token is inactive at the Key Manager.
    assert_refused(gateway(node, "GET", path(api, "/pets"), secrets.token_hex(32)), 401, 900901)
    revoke_token(c, t)
    start = time.monotonic()
    response = wait_for_status(node, "GET", path(api, "/pets"), 401, t, timeout=1.0)
    assert time.monotonic() - start < 1.0
    assert_refused(response, 401, 900901)


def test_an_api_key_in_the_apikey_header_is_accepted_and_not_forwarded(node, api, caller, token):
    key = caller.api_key()
    response = gateway(node, "GET", path(api, "/pets"), headers={"apikey": key})
    assert response.status_code == 200, response.text
    echo = response.json()
    assert echo["backend"] == "prod"
    assert "apikey" not in echo["headers"]
    # API keys carry no scopes and are not checked against them (as the reference).
    assert gateway(node, "GET", path(api, "/scoped"), headers={"apikey": key}).status_code == 200


def test_api_key_ip_and_referer_restrictions(node, api, caller, token):
    def key(**restrictions):
        return caller.api_key(validityPeriod=3600, additionalProperties=restrictions)

    def call(k, **headers):
        return gateway(node, "GET", path(api, "/pets"), headers={"apikey": k, **headers})

    assert call(key(permittedIP="10.1.2.3, 127.0.0.0/8")).status_code == 200
    response = call(key(permittedIP="10.0.0.0/8, ::1"))
    assert_refused(response, 403, 900908)
    referer_key = key(permittedReferer="https://shop.example/*")
    assert call(referer_key, Referer="https://shop.example/cart").status_code == 200
    assert_refused(call(referer_key, Referer="https://evil.example/cart"), 403, 900908)
    assert_refused(call(referer_key), 403, 900908)


def test_an_api_key_is_not_accepted_by_an_api_without_the_api_key_scheme(node, prod_backend,
                                                                          caller, token):
    oauth_only = publish_api(node, prod_backend.url, securityScheme=["oauth2"])
    caller.subscribe(oauth_only)
    wait_for_status(node, "GET", path(oauth_only, "/x"), 200, token)
    response = gateway(node, "GET", path(oauth_only, "/x"), headers={"apikey": caller.api_key()})
    assert_refused(response, 401, 900902)
    assert challenges(response) == ['Bearer realm="portico"']


def test_custom_authorization_and_api_key_headers(node, prod_backend, caller, token):
    custom = publish_api(node, prod_backend.url, securityScheme=["oauth2", "api_key"],
                         authorizationHeader="X-Auth", apiKeyHeader="X-Api-Key")
    caller.subscribe(custom)
    key = caller.api_key()
    response = wait_for_status(node, "GET", path(custom, "/x"), 200,
                               headers={"X-Auth": f"Bearer {token}"})
    assert "x-auth" not in response.json()["headers"]
    response = gateway(node, "GET", path(custom, "/x"), headers={"X-Api-Key": key})
    assert response.status_code == 200, response.text
    assert "x-api-key" not in response.json()["headers"]
    # Header names match in any case.
    assert gateway(node, "GET", path(custom, "/x"),
                   headers={"x-API-key": key}).status_code == 200
    # The default header names are not read for this API.
    for headers in ({"apikey": key}, {"Authorization": f"Bearer {token}"}):
        response = gateway(node, "GET", path(custom, "/x"), headers=headers)
        assert_refused(response, 401, 900902)
        description = response.json()["description"]
        assert "'X-Auth : Bearer ACCESS_TOKEN'" in description
        assert "'X-Api-Key : API_KEY'" in description


def test_the_api_key_query_parameter_only_when_the_api_enables_it(node, api, prod_backend,
                                                                  caller, token):
    key = caller.api_key()
    # `api` leaves enableApiKeyQueryParam at its default (false): the key is not looked for.
    response = gateway(node, "GET", path(api, "/pets"), params={"apikey": key})
    assert_refused(response, 401, 900902)

    with_query = publish_api(node, prod_backend.url, securityScheme=["oauth2", "api_key"],
                             enableApiKeyQueryParam=True)
    caller.subscribe(with_query)
    response = wait_for_status(node, "GET", path(with_query, "/x"), 200,
                               params=[("a", "1"), ("apikey", key), ("b", "2")])
    echo = response.json()
    # The key is taken out of the query the backend sees; the rest stays as sent.
    assert "apikey" not in echo["query"]
    assert echo["query"] == "a=1&b=2"
    assert "apikey" not in echo["headers"]
    # A bad key in the query is an invalid credential, not a missing one.
    response = gateway(node, "GET", path(with_query, "/x"), params={"apikey": key[:-4] + "AAAA"})
    assert_refused(response, 401, 900901)


# ---- HTTP Basic ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def basic_api(node, prod_backend, scope_names):
    s = scope_names
    return publish_api(
        node, prod_backend.url, securityScheme=["basic_auth"],
        scopes=[{"scope": {"name": s["subscriber"] + "_b", "displayName": "sub",
                           "bindings": ["subscriber"]}},
                {"scope": {"name": s["admin"] + "_b", "displayName": "admin",
                           "bindings": ["admin"]}}],
        operations=operations(("/pets", {}),
                              ("/bound-subscriber", {"scopes": [s["subscriber"] + "_b"]}),
                              ("/bound-admin", {"scopes": [s["admin"] + "_b"]})))


def test_basic_auth_for_a_scim_user(node, basic_api):
    user = scim_user(node, ["subscriber"])
    good = basic(user["userName"], SCIM_PASSWORD)
    response = wait_for_status(node, "GET", path(basic_api, "/pets"), 200, headers=good)
    echo = response.json()
    assert echo["backend"] == "prod"
    assert "authorization" not in echo["headers"]

    response = gateway(node, "GET", path(basic_api, "/pets"),
                       headers=basic(user["userName"], "wrong-password"))
    assert_refused(response, 401, 900901)
    assert challenges(response) == ['Basic realm="portico"']
    assert_refused(gateway(node, "GET", path(basic_api, "/pets"),
                           headers=basic("nobody" + uuid.uuid4().hex[:6], SCIM_PASSWORD)),
                   401, 900901)

    missing = gateway(node, "GET", path(basic_api, "/pets"))
    assert_refused(missing, 401, 900902)
    assert challenges(missing) == ['Basic realm="portico"']


def test_a_basic_user_needs_a_role_bound_to_the_resource_scope(node, basic_api):
    user = scim_user(node, ["subscriber"])
    good = basic(user["userName"], SCIM_PASSWORD)
    wait_for_status(node, "GET", path(basic_api, "/pets"), 200, headers=good)
    assert gateway(node, "GET", path(basic_api, "/bound-subscriber"),
                   headers=good).status_code == 200
    admin = basic(*node.admin_auth)
    assert gateway(node, "GET", path(basic_api, "/bound-admin"), headers=admin).status_code == 200
    # The subscriber holds no role bound to the admin scope.
    assert_refused(gateway(node, "GET", path(basic_api, "/bound-admin"), headers=good),
                   403, 900910)


def test_a_basic_user_deleted_through_scim_is_refused(node, basic_api):
    user = scim_user(node, ["subscriber"])
    credentials = basic(user["userName"], SCIM_PASSWORD)
    # Called twice so that the gateway has the user cached.
    wait_for_status(node, "GET", path(basic_api, "/pets"), 200, headers=credentials)
    assert gateway(node, "GET", path(basic_api, "/pets"), headers=credentials).status_code == 200
    deleted = node.request("DELETE", node.https_url + f"{SCIM_USERS}/{user['id']}",
                           auth=node.admin_auth)
    assert deleted.status_code == 204, deleted.text
    response = wait_for_status(node, "GET", path(basic_api, "/pets"), 401,
                               headers=credentials, timeout=2.0)
    assert_refused(response, 401, 900901)


def test_a_password_changed_through_scim_refuses_the_old_one(node, basic_api):
    user = scim_user(node, ["subscriber"])
    old = basic(user["userName"], SCIM_PASSWORD)
    wait_for_status(node, "GET", path(basic_api, "/pets"), 200, headers=old)
    changed = node.request(
        "PATCH", node.https_url + f"{SCIM_USERS}/{user['id']}", auth=node.admin_auth,
        json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
              "Operations": [{"op": "replace", "path": "password", "value": "new-password-2"}]})
    assert changed.status_code == 200, changed.text
    response = wait_for_status(node, "GET", path(basic_api, "/pets"), 401, headers=old,
                               timeout=2.0)
    assert_refused(response, 401, 900901)
    assert gateway(node, "GET", path(basic_api, "/pets"),
                   headers=basic(user["userName"], "new-password-2")).status_code == 200


def test_basic_credentials_on_an_api_without_basic_auth_are_missing_credentials(node, api,
                                                                                  token):
    user = scim_user(node, ["subscriber"])
    response = gateway(node, "GET", path(api, "/pets"),
                       headers=basic(user["userName"], SCIM_PASSWORD))
    assert_refused(response, 401, 900902)


# ---- missing and invalid credentials -------------------------------------------------------

def test_missing_credentials_are_900902_with_one_challenge_per_scheme(node, api, token):
    response = gateway(node, "GET", path(api, "/pets"))
    assert_refused(response, 401, 900902)
    assert response.json()["message"] == "Missing Credentials"
    assert challenges(response) == ['Bearer realm="portico"', 'APIKey realm="portico"']
    description = response.json()["description"]
    assert "'Authorization : Bearer ACCESS_TOKEN'" in description
    assert "'apikey : API_KEY'" in description
    # An empty bearer token or API key is no credential either.
    for headers in ({"Authorization": "Bearer "}, {"apikey": ""}, {"Authorization": "Bearer"}):
        assert_refused(gateway(node, "GET", path(api, "/pets"), headers=headers), 401, 900902)


def forgeries(node, token: str, api_key: str) -> dict[str, str]:
    """Credentials that look right but must not be accepted."""
    header, claims = unverified(token)
    h, p, sig = token.split(".")
    jwk = next(k for k in node.jwks()["keys"] if k["kid"] == header["kid"])
    public_pem = jwt.PyJWK(jwk).key.public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def hs256(secret: bytes) -> str:
        head = b64url_json({"alg": "HS256", "typ": "JWT", "kid": header["kid"]})
        body = b64url_json(claims)
        mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{b64url(mac)}"

    sig_bytes = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    sig_bytes[10] ^= 0x01
    widened = dict(claims, scope="default anything", exp=claims["exp"] + 86400)
    return {
        "garbage": "not-a-token",
        "three garbage segments": "a.b.c",
        "payload changed, signature kept": f"{h}.{b64url_json(widened)}.{sig}",
        "signature bit flipped": f"{h}.{p}.{b64url(bytes(sig_bytes))}",
        "signature cut off": f"{h}.{p}.",
        "signed by another key under the real kid": jwt.encode(
            claims, other_key, algorithm="RS256", headers={"kid": header["kid"]}),
        "signed by another key under an unknown kid": jwt.encode(
            claims, other_key, algorithm="RS256", headers={"kid": "forged-" + uuid.uuid4().hex}),
        "alg none": f"{b64url_json({'alg': 'none', 'typ': 'JWT', 'kid': header['kid']})}."
                    f"{b64url_json(claims)}.",
        "HS256 keyed with the public key": hs256(public_pem),
        "an API key sent as a bearer token": api_key,
    }


def test_invalid_tampered_and_forged_tokens_are_900901(node, api, caller, token):
    for name, forged in forgeries(node, token, caller.api_key()).items():
        response = gateway(node, "GET", path(api, "/pets"), forged)
        assert response.status_code == 401, f"{name}: {response.status_code} {response.text}"
        assert error_code(response) == 900901, name
        assert response.json()["message"] == "Invalid Credentials", name
        assert challenges(response) == ['Bearer realm="portico", error="invalid_token"'], name
    # The genuine token still works after all that.
    assert gateway(node, "GET", path(api, "/pets"), token).status_code == 200


def test_invalid_and_forged_api_keys_are_900901(node, api, caller, token):
    key = caller.api_key()
    header, claims = unverified(key)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    h, _, sig = key.split(".")
    widened = dict(claims, keytype="PRODUCTION", exp=claims["exp"] + 86400)
    bad = {
        "garbage": "not-an-api-key",
        "payload changed, signature kept": f"{h}.{b64url_json(widened)}.{sig}",
        "signed by another key": jwt.encode(claims, other_key, algorithm="RS256",
                                            headers={"kid": header["kid"]}),
        "alg none": f"{b64url_json({'alg': 'none', 'kid': header['kid']})}."
                    f"{b64url_json(claims)}.",
        "an access token sent as an API key": token,
    }
    for name, forged in bad.items():
        response = gateway(node, "GET", path(api, "/pets"), headers={"apikey": forged})
        assert response.status_code == 401, f"{name}: {response.status_code} {response.text}"
        assert error_code(response) == 900901, name
        assert challenges(response) == ['APIKey realm="portico"'], name


def test_a_bad_bearer_token_is_not_retried_as_the_api_key(node, api, caller, token):
    response = gateway(node, "GET", path(api, "/pets"), "not-a-token",
                       headers={"apikey": caller.api_key()})
    assert_refused(response, 401, 900901)


# ---- subscriptions ---------------------------------------------------------------------------

def test_an_unsubscribed_application_is_900908(node, api, token):
    stranger = Caller(node)
    assert_refused(gateway(node, "GET", path(api, "/pets"), stranger.token()), 403, 900908)
    assert_refused(gateway(node, "GET", path(api, "/pets"),
                           headers={"apikey": stranger.api_key()}), 403, 900908)


def test_a_blocked_subscription_is_900907_until_unblocked(node, api, token):
    c = Caller(node)
    subscription = c.subscribe(api)
    t = c.token()
    key = c.api_key()
    wait_for_status(node, "GET", path(api, "/pets"), 200, t)
    set_subscription(node, subscription["subscriptionId"], "BLOCKED")
    response = wait_for_status(node, "GET", path(api, "/pets"), 401, t, timeout=2.0)
    assert_refused(response, 401, 900907)
    assert response.json()["message"] == "The requested API is temporarily blocked"
    assert_refused(gateway(node, "GET", path(api, "/pets"), headers={"apikey": key}),
                   401, 900907)
    set_subscription(node, subscription["subscriptionId"], "UNBLOCKED")
    wait_for_status(node, "GET", path(api, "/pets"), 200, t, timeout=2.0)
    assert gateway(node, "GET", path(api, "/pets"), headers={"apikey": key}).status_code == 200


def test_prod_only_blocked_refuses_production_keys_but_not_sandbox(node, api, token):
    c = Caller(node)
    subscription = c.subscribe(api)
    production, sandbox = c.token(), c.token("SANDBOX")
    wait_for_status(node, "GET", path(api, "/pets"), 200, production)
    set_subscription(node, subscription["subscriptionId"], "PROD_ONLY_BLOCKED")
    response = wait_for_status(node, "GET", path(api, "/pets"), 401, production, timeout=2.0)
    assert_refused(response, 401, 900907)
    assert_refused(gateway(node, "GET", path(api, "/pets"),
                           headers={"apikey": c.api_key("PRODUCTION")}), 401, 900907)
    response = gateway(node, "GET", path(api, "/pets"), sandbox)
    assert response.status_code == 200, response.text
    assert response.json()["backend"] == "sandbox"
    assert gateway(node, "GET", path(api, "/pets"),
                   headers={"apikey": c.api_key("SANDBOX")}).status_code == 200


@pytest.mark.skip(reason="the control plane cannot produce an ON_HOLD subscription: Portico has "
                         "no workflows (docs/rest-api-publisher.md), the developer portal "
                         "creates every subscription UNBLOCKED (src/devportal/subscriptions.cpp) "
                         "and the publisher sets only BLOCKED/PROD_ONLY_BLOCKED/UNBLOCKED")
def test_a_subscription_awaiting_approval_is_900909():
    pass


# ---- scopes and authType -------------------------------------------------------------------

def test_a_scoped_resource_needs_a_token_with_the_scope(node, api, caller, token, scope_names):
    s = scope_names
    response = gateway(node, "GET", path(api, "/scoped"), token)
    assert_refused(response, 403, 900910)
    # An unbound scope goes to whoever asks for it.
    with_scope = caller.token(scope=s["free"])
    assert gateway(node, "GET", path(api, "/scoped"), with_scope).status_code == 200
    assert gateway(node, "GET", path(api, "/pets"), with_scope).status_code == 200
    # A bound scope goes only to holders of the role: the developer is a subscriber.
    both = token_response(caller, {"grant_type": "password",
                                   "username": caller.developer.username,
                                   "password": DEV_PASSWORD,
                                   "scope": f"{s['subscriber']} {s['admin']}"})
    assert both["scope"].split() == [s["subscriber"]]
    assert gateway(node, "GET", path(api, "/bound-subscriber"),
                   both["access_token"]).status_code == 200
    assert_refused(gateway(node, "GET", path(api, "/bound-admin"), both["access_token"]),
                   403, 900910)
    # An application token holds the scopes its owner's roles allow.
    app_token = caller.token(scope=f"{s['subscriber']} {s['admin']}")
    assert gateway(node, "GET", path(api, "/bound-subscriber"), app_token).status_code == 200
    assert_refused(gateway(node, "GET", path(api, "/bound-admin"), app_token), 403, 900910)


def test_an_application_user_resource_refuses_application_tokens(node, api, token, user_token):
    response = gateway(node, "GET", path(api, "/user-only"), token)
    assert_refused(response, 401, 900905)
    assert response.json()["message"] == "Incorrect Access Token Type is provided"
    assert gateway(node, "GET", path(api, "/user-only"), user_token).status_code == 200


def test_an_application_resource_refuses_user_tokens(node, api, token, user_token):
    assert_refused(gateway(node, "GET", path(api, "/app-only"), user_token), 401, 900905)
    assert gateway(node, "GET", path(api, "/app-only"), token).status_code == 200


def test_a_resource_with_auth_type_none_needs_no_credential(node, api, token):
    response = gateway(node, "GET", path(api, "/open"))
    assert response.status_code == 200, response.text
    assert response.json()["path"] == "/prod/open"
    # Its neighbours still do.
    assert_refused(gateway(node, "GET", path(api, "/pets")), 401, 900902)


# ---- key types and endpoints ---------------------------------------------------------------

def test_sandbox_keys_go_to_the_sandbox_endpoint_and_production_keys_to_production(
        node, api, caller, token):
    sandbox_token = caller.token("SANDBOX")
    # New keys reach the gateway with the next snapshot, a moment after they are issued.
    wait_for_status(node, "GET", path(api, "/pets"), 200, sandbox_token)
    for credential, expected in [({"Authorization": f"Bearer {token}"}, ("prod", "/prod")),
                                 ({"Authorization": f"Bearer {sandbox_token}"},
                                  ("sandbox", "/sb")),
                                 ({"apikey": caller.api_key("PRODUCTION")}, ("prod", "/prod")),
                                 ({"apikey": caller.api_key("SANDBOX")}, ("sandbox", "/sb"))]:
        response = gateway(node, "GET", path(api, "/pets"), headers=credential)
        assert response.status_code == 200, response.text
        echo = response.json()
        assert (echo["backend"], echo["path"]) == (expected[0], expected[1] + "/pets")
        assert response.headers["X-Backend"] == expected[0]


def test_an_api_without_a_sandbox_endpoint_refuses_sandbox_keys(node, prod_backend, token):
    production_only = publish_api(node, prod_backend.url)
    c = Caller(node)
    c.subscribe(production_only)
    wait_for_status(node, "GET", path(production_only, "/x"), 200, c.token())
    response = gateway(node, "GET", path(production_only, "/x"), c.token("SANDBOX"))
    assert_refused(response, 403, 900908)


# ---- revocation ------------------------------------------------------------------------------

def test_a_revoked_token_and_api_key_are_refused_within_a_second(node, api, token):
    c = Caller(node)
    c.subscribe(api)
    t, key = c.token(), c.api_key()
    wait_for_status(node, "GET", path(api, "/pets"), 200, t)
    assert gateway(node, "GET", path(api, "/pets"), headers={"apikey": key}).status_code == 200
    revoke_token(c, t)
    revoke_api_key(c, key)
    start = time.monotonic()
    response = wait_for_status(node, "GET", path(api, "/pets"), 401, t, timeout=1.0)
    assert_refused(response, 401, 900901)
    response = wait_for_status(node, "GET", path(api, "/pets"), 401, timeout=1.0,
                               headers={"apikey": key})
    assert_refused(response, 401, 900901)
    assert time.monotonic() - start < 1.0
    # The application's other credentials are unaffected.
    assert gateway(node, "GET", path(api, "/pets"), c.token()).status_code == 200
    assert gateway(node, "GET", path(api, "/pets"),
                   headers={"apikey": c.api_key()}).status_code == 200


def test_a_deleted_application_loses_its_tokens_and_api_keys(node, api, token):
    c = Caller(node)
    c.subscribe(api)
    t, key = c.token(), c.api_key()
    wait_for_status(node, "GET", path(api, "/pets"), 200, t)
    deleted = c.developer.delete(f"/applications/{c.app['applicationId']}")
    assert deleted.status_code == 200, deleted.text
    response = wait_for_status(node, "GET", path(api, "/pets"), 403, t, timeout=2.0)
    assert_refused(response, 403, 900908)
    assert_refused(gateway(node, "GET", path(api, "/pets"), headers={"apikey": key}),
                   403, 900908)


# ---- a dedicated node: no leeway, Authorization forwarded, restarted at the end ---------------

@pytest.fixture(scope="module")
def strict(module_launcher, prod_backend):
    node = module_launcher.new(sections={"gateway": {"strip_authorization": False,
                                                     "jwt_leeway_seconds": 0}})
    api = publish_api(node, prod_backend.url, securityScheme=["oauth2", "api_key"])
    c = Caller(node)
    c.subscribe(api)
    t = c.token()
    wait_for_status(node, "GET", path(api, "/x"), 200, t)
    return node, api, c, t


def test_authorization_is_forwarded_when_strip_authorization_is_off(strict):
    node, api, c, t = strict
    response = gateway(node, "GET", path(api, "/x"), t)
    assert response.status_code == 200, response.text
    assert response.json()["headers"]["authorization"] == f"Bearer {t}"
    # The API key header is always taken out, as in the reference.
    response = gateway(node, "GET", path(api, "/x"), headers={"apikey": c.api_key()})
    assert response.status_code == 200, response.text
    assert "apikey" not in response.json()["headers"]


def test_an_expired_token_and_api_key_are_900901(strict):
    node, api, _, _ = strict
    c = Caller(node)
    c.subscribe(api)
    keys_with(c, validityTime="1")
    t = c.token()
    key = c.api_key(validityPeriod=1)
    expiry = max(unverified(t)[1]["exp"], unverified(key)[1]["exp"])
    time.sleep(max(0.0, expiry + 1.1 - time.time()))
    assert_refused(gateway(node, "GET", path(api, "/x"), t), 401, 900901)
    assert_refused(gateway(node, "GET", path(api, "/x"), headers={"apikey": key}), 401, 900901)


def test_revocations_outlive_a_restart(strict):
    node, api, c, kept = strict
    revoked, revoked_key, kept_key = c.token(), c.api_key(), c.api_key()
    assert gateway(node, "GET", path(api, "/x"), revoked).status_code == 200
    revoke_token(c, revoked)
    revoke_api_key(c, revoked_key)
    wait_for_status(node, "GET", path(api, "/x"), 401, revoked, timeout=1.0)
    node.restart()
    wait_until_gateway_ready(node)
    # Once the gateway serves the API again, the revoked credentials are still refused.
    wait_for_status(node, "GET", path(api, "/x"), 200, kept, timeout=15.0)
    assert_refused(gateway(node, "GET", path(api, "/x"), revoked), 401, 900901)
    assert_refused(gateway(node, "GET", path(api, "/x"), headers={"apikey": revoked_key}),
                   401, 900901)
    assert gateway(node, "GET", path(api, "/x"), headers={"apikey": kept_key}).status_code == 200

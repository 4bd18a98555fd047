"""Two nodes on one PostgreSQL database and one Redis: what one node changes, the other
serves at once, not after its caches expire. Signing keys (also rotated with the CLI while
the nodes run), the scopes APIs define, and the key manager's client and user caches are the
cluster's, not one process's; two nodes started together on an empty database agree on one
signing key and one administrator; expired token state is purged.

The caches are configured to keep entries for an hour: only an event (or the database) can
explain that node B sees a change made on node A within seconds.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid

import jwt
import pytest

import portico_node
from admin_support import call as admin_call
from admin_support import create_user
from conftest import POSTGRES_URL
from devportal_support import execute
from gateway_support import Backend, Caller, gateway, publish_api, wait_for, wait_for_status
from publisher_support import call as publisher_call

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="PORTICO_TEST_POSTGRES_URL is not set (run under scripts/with-postgres)")

ISSUER = "https://portico.cluster-state.test/oauth2/token"
# Far below the caches' hour: a change seen within this long came by event or database.
PROPAGATION_SECONDS = 10
MAX_FAILURES = 4
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, redis):
    """Nodes A and B, started at the same moment on one empty database."""
    from conftest import NodeLauncher
    launcher = NodeLauncher(tmp_path_factory, "postgresql")
    database_url = portico_node.create_postgres_database(POSTGRES_URL)
    # Every request comes from 127.0.0.1: the per-address limit stays out of the way of the
    # per-account one these tests count.
    sections = {"redis": {"url": redis.url},
                "oauth": {"issuer": ISSUER, "lookup_cache_seconds": 3600,
                          "credential_cache_seconds": 3600},
                "security": {"max_failed_logins": MAX_FAILURES,
                             "max_failed_logins_per_address": 10000}}
    try:
        a = launcher.new(database_url=database_url, sections=sections, start=False)
        b = launcher.new(database_url=database_url, sections=sections, start=False)
        failures: list[BaseException] = []

        def start(node):
            try:
                node.start()
            except BaseException as e:  # reported below, in the test's thread
                failures.append(e)

        threads = [threading.Thread(target=start, args=(n,)) for n in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise failures[0]
        yield a, b
    finally:
        launcher.close()
        portico_node.drop_postgres_database(POSTGRES_URL, database_url)


@pytest.fixture(scope="module")
def backend():
    b = Backend("cluster-state")
    yield b
    b.close()


def kids(node) -> set[str]:
    return {k["kid"] for k in node.jwks()["keys"]}


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def password_token(node, client: dict, username: str, password: str, scope: str = ""):
    form = {"grant_type": "password", "username": username, "password": password}
    if scope:
        form["scope"] = scope
    return node.token(client, form)


# ---- signing keys ---------------------------------------------------------------------------


def test_two_nodes_started_together_on_an_empty_database_share_one_key_and_one_admin(cluster):
    a, b = cluster
    assert a.count("signing_keys", "retired_at = 0") == 1
    assert a.count("users", "username = 'admin'") == 1
    assert kids(a) == kids(b)
    # Both answer as the administrator.
    for node in (a, b):
        assert admin_call(node, "GET", "/scim2/Users").status_code == 200


def test_a_key_rotated_with_the_cli_signs_every_nodes_tokens_and_every_node_accepts_them(
        cluster, backend):
    a, b = cluster
    api = publish_api(a, backend.url)
    caller = Caller(a)
    caller.subscribe(api)
    before = kids(a)

    rotated = a.cli("keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    new_kid = rotated.stdout.split()[-1]
    assert new_kid not in before
    assert a.count("signing_keys", "retired_at = 0") == 1

    # Neither node was restarted: the event tells both to sign with the new key.
    for node in (a, b):
        wait_for(lambda node=node: new_kid in kids(node), PROPAGATION_SECONDS)
    token = wait_for(lambda: (lambda t: t if kid_of(t) == new_kid else None)(caller.token()),
                     PROPAGATION_SECONDS)
    assert b.introspect(token)["active"] is True
    path = f"{api['context']}/1.0.0/items"
    for node in (a, b):
        assert wait_for_status(node, "GET", path, 200, token,
                               timeout=PROPAGATION_SECONDS).status_code == 200


def test_a_token_with_a_kid_no_node_has_seen_is_refused_and_changes_nothing(cluster):
    a, b = cluster
    client = a.register_client()
    token = a.token(client, {"grant_type": "client_credentials"}).json()["access_token"]
    _, payload, signature = token.split(".")
    header = {"alg": "RS256", "typ": "JWT", "kid": uuid.uuid4().hex}
    forged_header = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    forged = ".".join([forged_header, payload, signature])
    active_keys = a.count("signing_keys")
    assert b.introspect(forged)["active"] is False
    assert a.count("signing_keys") == active_keys


# ---- API scopes ---------------------------------------------------------------------------


def scope(name: str, bindings: list[str]) -> dict:
    return {"scope": {"name": name, "description": name, "bindings": bindings}, "shared": False}


def api_body(backend_url: str, scope_name: str) -> dict:
    name = "Scoped" + uuid.uuid4().hex[:8]
    return {"name": name, "context": "/" + name.lower(), "version": "1.0.0",
            "endpointConfig": {"endpoint_type": "http",
                               "production_endpoints": {"url": backend_url}},
            "policies": ["Unlimited"], "scopes": [scope(scope_name, ["creator"])]}


def test_a_scope_an_api_defines_on_one_node_is_reserved_and_granted_on_the_other(
        cluster, backend):
    a, b = cluster
    name = "orders_" + uuid.uuid4().hex[:8]
    user = create_user(a, ["creator"])
    client = b.register_client(grantType="password")
    # Node B has never heard of the scope, and remembers that answer for an hour.
    unknown = password_token(b, client, user["userName"], user["password"], name)
    assert unknown.status_code == 400, unknown.text
    assert unknown.json()["error"] == "invalid_scope"

    created = publisher_call(a, "POST", "/apis", json=api_body(backend.url, name))
    assert created.status_code == 201, created.text

    apis_before = b.count("apis")
    taken = publisher_call(b, "POST", "/apis", json=api_body(backend.url, name))
    assert taken.status_code == 409, taken.text
    assert taken.json()["code"] == 900988
    assert b.count("apis") == apis_before

    def granted():
        response = password_token(b, client, user["userName"], user["password"], name)
        return response.status_code == 200 and name in response.json()["scope"].split()

    wait_for(granted, PROPAGATION_SECONDS)
    # A user without the role is left without it.
    other = create_user(a, ["subscriber"])
    response = password_token(b, client, other["userName"], other["password"], name)
    assert response.status_code == 200, response.text
    assert name not in response.json()["scope"].split()


# ---- caches -------------------------------------------------------------------------------


def test_a_client_secret_regenerated_on_one_node_stops_working_on_the_other(cluster):
    a, b = cluster
    caller = Caller(a)
    client_id, secret = caller.credentials()
    form = {"grant_type": "client_credentials"}
    assert b.request("POST", b.token_url, data=form,
                     auth=(client_id, secret)).status_code == 200
    mapping = caller.keys["PRODUCTION"]["keyMappingId"]
    app_id = caller.app["applicationId"]
    regenerated = caller.developer.post(
        f"/applications/{app_id}/oauth-keys/{mapping}/regenerate-secret")
    assert regenerated.status_code == 200, regenerated.text
    new_secret = regenerated.json()["consumerSecret"]

    wait_for(lambda: b.request("POST", b.token_url, data=form,
                               auth=(client_id, secret)).status_code == 401,
             PROPAGATION_SECONDS)
    assert b.request("POST", b.token_url, data=form,
                     auth=(client_id, new_secret)).status_code == 200


def test_a_password_changed_on_one_node_stops_working_on_the_other(cluster):
    a, b = cluster
    client = b.register_client(grantType="password")
    user = create_user(a, ["subscriber"])
    assert password_token(b, client, user["userName"], user["password"]).status_code == 200
    changed = admin_call(a, "PATCH", f"/scim2/Users/{user['id']}", json={
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "password", "value": "another-password-2"}]})
    assert changed.status_code == 200, changed.text

    wait_for(lambda: password_token(b, client, user["userName"],
                                    user["password"]).status_code == 400,
             PROPAGATION_SECONDS)
    assert password_token(b, client, user["userName"], "another-password-2").status_code == 200


def test_a_user_deleted_on_one_node_cannot_sign_in_on_the_other(cluster):
    a, b = cluster
    user = create_user(a, ["subscriber"])
    auth = (user["userName"], user["password"])
    assert b.request("GET", b.https_url + "/api/am/devportal/v3/applications",
                     auth=auth).status_code == 200
    assert admin_call(a, "DELETE", f"/scim2/Users/{user['id']}").status_code == 204

    wait_for(lambda: b.request("GET", b.https_url + "/api/am/devportal/v3/applications",
                               auth=auth).status_code == 401,
             PROPAGATION_SECONDS)


def test_failed_sign_ins_on_both_nodes_add_up_to_one_lock(cluster):
    a, b = cluster
    user = create_user(a, ["subscriber"])
    applications = "/api/am/devportal/v3/applications"
    wrong = (user["userName"], "not-the-password")
    # Spread over both nodes: per node, each stays under the limit.
    for i in range(MAX_FAILURES):
        node = (a, b)[i % 2]
        refused = node.request("GET", node.https_url + applications, auth=wrong)
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == 900901
    for node in (a, b):
        locked = node.request("GET", node.https_url + applications,
                              auth=(user["userName"], user["password"]))
        assert locked.status_code == 401, locked.text
        assert locked.json()["code"] == 17003
        assert int(locked.headers["Retry-After"]) > 0


# ---- purge --------------------------------------------------------------------------------


def test_expired_codes_tokens_and_revocations_are_purged_and_live_ones_kept(cluster):
    a, b = cluster
    past, future = int(time.time()) - 60, int(time.time()) + 3600
    tag = uuid.uuid4().hex[:8]

    def code(name: str, expires_at: int) -> str:
        return ("INSERT INTO authorization_codes (code_hash, client_id, subject, redirect_uri, "
                f"scope, code_challenge, expires_at) VALUES ('{name}-{tag}', 'c', 's', "
                f"'https://app.example/cb', '', '', {expires_at})")

    execute(b, [
        code("expired", past), code("live", future),
        f"INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES "
        f"('expired-{tag}', {past}, {past}), ('live-{tag}', {future}, {past})",
        f"INSERT INTO refresh_tokens (token_hash, family_id, client_id, subject, scope, "
        f"expires_at, used, revoked) VALUES ('expired-{tag}', 'f', 'c', 's', '', {past}, 1, 0)",
    ])
    # Every node purges when it starts, then every oauth.purge_interval_seconds.
    b.restart()
    wait_for(lambda: b.count("authorization_codes", f"code_hash = 'expired-{tag}'") == 0,
             PROPAGATION_SECONDS)
    assert b.count("authorization_codes", f"code_hash = 'live-{tag}'") == 1
    assert b.count("revoked_tokens", f"jti = 'expired-{tag}'") == 0
    assert b.count("revoked_tokens", f"jti = 'live-{tag}'") == 1
    assert b.count("refresh_tokens", f"token_hash = 'expired-{tag}'") == 0

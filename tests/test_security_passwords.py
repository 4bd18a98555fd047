"""Passwords and client secrets (issue 9, item 5): failed-login counters per account and per
source address shared by every entry point, the back-off, the hashing pool and its queue,
client secrets under a keyed hash, the password and user-name rules.

Every test here calls from its own loopback address (127.0.0.0/8 is all local on Linux), so
that the per-address counter of one test never refuses another's calls."""

from __future__ import annotations

import base64
import threading
import time
import urllib.parse
import uuid

import pytest
import requests

from admin_support import new_name
from devportal_support import SIGNUP, signup_body
from gateway_support import (Backend, _SourceAddressAdapter, error_code, gateway_from,
                             publish_api, wait_for)
from portico_node import ADMIN_USERNAME, Node

SCIM_USERS = "/scim2/Users"
APPLICATIONS = "/api/am/devportal/v3/applications"
PASSWORD = "right-password-1"
CALLBACK = "https://app.example/cb"

# Per-address limits high enough that only the account counter speaks, unless a test wants
# the address counter; a lock long enough to outlast a test.
QUIET_ADDRESS = {"max_failed_logins": 5, "max_failed_logins_per_address": 10000,
                 "lockout_seconds": 600}

_next_address = iter(range(2, 250))


def fresh_address() -> str:
    return f"127.0.9.{next(_next_address)}"


def from_address(node: Node, address: str, method: str, url: str, **kwargs) -> requests.Response:
    """A request to the node from `address`."""
    kwargs.setdefault("timeout", 30)
    kwargs.setdefault("allow_redirects", False)
    with node.session() as s:
        s.mount("https://", _SourceAddressAdapter(address))
        s.mount("http://", _SourceAddressAdapter(address))
        return s.request(method, url, **kwargs)


def basic(username: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def create_user(node: Node, roles=("subscriber",), password: str = PASSWORD,
                username: str | None = None) -> str:
    username = username or new_name("pw")
    response = node.post(SCIM_USERS, auth=node.admin_auth, json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": username,
        "password": password, "roles": [{"value": r} for r in roles]})
    assert response.status_code == 201, response.text
    return username


def rest_call(node: Node, address: str, username: str, password: str) -> requests.Response:
    return from_address(node, address, "GET", node.https_url + APPLICATIONS,
                        auth=(username, password))


def assert_locked(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["code"] == 17003, body
    assert body["message"] == "Account is locked"
    assert "locked" in body["description"].lower()
    assert response.headers["Retry-After"].isdigit()


@pytest.fixture(scope="module")
def quiet(sqlite_launcher) -> Node:
    """A node whose only limit that matters is the per-account one."""
    return sqlite_launcher.new(sections={"security": QUIET_ADDRESS})


@pytest.fixture(scope="module")
def password_client(quiet) -> dict:
    return quiet.register_client(grantType="password client_credentials")


# ---- the account lock, at each entry point ----------------------------------------------------

def test_basic_rest_locks_the_account_after_five_wrong_passwords(quiet):
    user, address = create_user(quiet), fresh_address()
    assert rest_call(quiet, address, user, PASSWORD).status_code == 200
    for attempt in range(5):
        response = rest_call(quiet, address, user, f"wrong-{attempt}")
        assert (response.status_code, response.json()["code"]) == (401, 900901), response.text
    assert_locked(rest_call(quiet, address, user, PASSWORD))
    # The lock is the account's, not the address's: another user from there still gets in.
    other = create_user(quiet)
    assert rest_call(quiet, address, other, PASSWORD).status_code == 200
    # And from elsewhere the account is still locked.
    assert_locked(rest_call(quiet, fresh_address(), user, PASSWORD))


def test_a_success_resets_the_account_counter(quiet):
    user, address = create_user(quiet), fresh_address()
    for _ in range(2):
        for attempt in range(4):
            assert rest_call(quiet, address, user, f"wrong-{attempt}").status_code == 401
        assert rest_call(quiet, address, user, PASSWORD).status_code == 200


def test_user_names_differing_in_case_share_one_counter(quiet):
    user, address = create_user(quiet), fresh_address()
    for attempt in range(5):
        name = user.upper() if attempt % 2 else user
        assert rest_call(quiet, address, name, f"wrong-{attempt}").status_code == 401
    assert_locked(rest_call(quiet, address, user, PASSWORD))


def test_the_password_grant_locks_the_account(quiet, password_client):
    user, address = create_user(quiet), fresh_address()

    def grant(password):
        return from_address(quiet, address, "POST", quiet.token_url,
                            data={"grant_type": "password", "username": user,
                                  "password": password},
                            auth=(password_client["clientId"], password_client["clientSecret"]))

    assert grant(PASSWORD).status_code == 200
    for attempt in range(5):
        response = grant(f"wrong-{attempt}")
        assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
    response = grant(PASSWORD)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"
    assert "locked" in response.json()["error_description"].lower()
    # Basic on the REST APIs counts on the same account.
    assert_locked(rest_call(quiet, address, user, PASSWORD))


def test_client_authentication_locks_the_client(quiet):
    client, address = quiet.register_client(grantType="client_credentials"), fresh_address()

    def token(secret):
        return from_address(quiet, address, "POST", quiet.token_url,
                            data={"grant_type": "client_credentials"},
                            auth=(client["clientId"], secret))

    assert token(client["clientSecret"]).status_code == 200
    for attempt in range(5):
        response = token(f"wrong-{attempt}")
        assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    response = token(client["clientSecret"])
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    assert "locked" in response.json()["error_description"].lower()
    # The revocation endpoint authenticates the client the same way.
    revoke = from_address(quiet, address, "POST", quiet.https_url + "/oauth2/revoke",
                          data={"token": "anything"},
                          auth=(client["clientId"], client["clientSecret"]))
    assert revoke.status_code == 401
    assert "locked" in revoke.json()["error_description"].lower()


def test_the_authorize_login_form_locks_the_account(quiet):
    client = quiet.register_client(grantType="authorization_code", callbackUrl=CALLBACK)
    user, address = create_user(quiet), fresh_address()
    params = {"response_type": "code", "client_id": client["clientId"], "redirect_uri": CALLBACK,
              "state": "s", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
              "code_challenge_method": "S256"}

    def sign_in(password):
        return from_address(quiet, address, "POST", quiet.https_url + "/oauth2/authorize",
                            data={**params, "username": user, "password": password})

    for attempt in range(5):
        response = sign_in(f"wrong-{attempt}")
        assert response.status_code == 401 and "not valid" in response.text, response.text
    response = sign_in(PASSWORD)
    assert response.status_code == 401, response.text
    assert "locked" in response.text.lower()
    assert "Location" not in response.headers


@pytest.fixture(scope="module")
def basic_api(quiet):
    backend = Backend("passwords")
    api = publish_api(quiet, backend.url, securityScheme=["basic_auth"],
                      operations=[{"target": "/pets", "verb": "GET",
                                   "throttlingPolicy": "Unlimited"}])
    yield api
    backend.close()


def test_the_gateways_basic_locks_the_account(quiet, basic_api):
    user, address = create_user(quiet), fresh_address()
    path = basic_api["context"] + "/1.0.0/pets"
    ok = wait_for(lambda: gateway_from(address, quiet, "GET", path,
                                       headers=basic(user, PASSWORD)).status_code == 200)
    assert ok
    for attempt in range(5):
        response = gateway_from(address, quiet, "GET", path,
                                headers=basic(user, f"wrong-{attempt}"))
        assert (response.status_code, error_code(response)) == (401, 900901), response.text
    # A fresh connection and credential text the gateway has not cached: the same password
    # with the user name in other letter case is the same account.
    response = gateway_from(address, quiet, "GET", path, headers=basic(user.upper(), PASSWORD))
    assert (response.status_code, error_code(response)) == (401, 900901), response.text
    assert "locked" in response.text.lower()
    # The control plane counted the gateway's caller's guesses on the same account.
    assert_locked(rest_call(quiet, fresh_address(), user, PASSWORD))


# ---- per source address, and the back-off --------------------------------------------------

def test_an_address_over_its_limit_is_refused_before_any_password_check(sqlite_launcher):
    node = sqlite_launcher.new(sections={"security": {
        "max_failed_logins": 5, "max_failed_logins_per_address": 3, "lockout_seconds": 600}})
    noisy, quiet_address = fresh_address(), fresh_address()
    users = [create_user(node) for _ in range(3)]
    for user in users:
        assert rest_call(node, noisy, user, "wrong-password").status_code == 401
    # The administrator's right password, from that address: refused without a check.
    response = rest_call(node, noisy, ADMIN_USERNAME, node.admin_password)
    assert_locked(response)
    assert "address" in response.json()["description"]
    token = from_address(node, noisy, "POST", node.token_url,
                         data={"grant_type": "password", "username": users[0],
                               "password": PASSWORD},
                         auth=node.admin_auth)
    assert token.status_code in (400, 401)
    assert "address" in token.json()["error_description"]
    # No account was locked: from another address everyone gets in.
    for user in users:
        assert rest_call(node, quiet_address, user, PASSWORD).status_code == 200


def test_the_back_off_ends_and_grows(sqlite_launcher):
    node = sqlite_launcher.new(sections={"security": {
        "max_failed_logins": 2, "max_failed_logins_per_address": 10000, "lockout_seconds": 1,
        "lockout_max_seconds": 60}})
    user, address = create_user(node), fresh_address()
    for attempt in range(2):
        assert rest_call(node, address, user, f"wrong-{attempt}").status_code == 401
    first = rest_call(node, address, user, PASSWORD)
    assert_locked(first)
    assert int(first.headers["Retry-After"]) <= 1
    time.sleep(1.5)
    # The lock ended; two more failures lock again, for twice as long.
    for attempt in range(2):
        assert rest_call(node, address, user, f"again-{attempt}").status_code == 401
    second = rest_call(node, address, user, PASSWORD)
    assert_locked(second)
    assert int(second.headers["Retry-After"]) == 2
    time.sleep(2.5)
    assert rest_call(node, address, user, PASSWORD).status_code == 200


# ---- the hashing pool --------------------------------------------------------------------------

def test_a_flood_of_bad_logins_does_not_stop_jwks(sqlite_launcher):
    node = sqlite_launcher.new(sections={"security": {
        "max_failed_logins": 1000, "max_failed_logins_per_address": 100000}})
    users = [create_user(node) for _ in range(4)]
    stop = threading.Event()
    answered: list[int] = []

    def flood(i):
        address = f"127.0.8.{i + 2}"
        while not stop.is_set():
            answered.append(rest_call(node, address, users[i % 4], f"wrong-{uuid.uuid4()}")
                            .status_code)

    threads = [threading.Thread(target=flood, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len(answered) >= 10, timeout=60)
        for _ in range(5):
            jwks = node.request("GET", node.https_url + "/oauth2/jwks", timeout=30)
            assert jwks.status_code == 200
            assert jwks.json()["keys"]
        still_flooding = len(answered)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert len(answered) > still_flooding or still_flooding >= 10
    assert set(answered) <= {401, 503}


def test_beyond_the_hashing_queue_the_answer_is_503_at_once(sqlite_launcher):
    node = sqlite_launcher.new(sections={"security": {
        "max_failed_logins": 1000, "max_failed_logins_per_address": 100000, "hash_threads": 1,
        "hash_queue": 1}})
    user = create_user(node)
    barrier = threading.Barrier(24)

    def attempt(i):
        barrier.wait()
        return rest_call(node, f"127.0.7.{i + 2}", user, f"wrong-{i}")

    results: list[requests.Response] = [None] * 24

    def run(i):
        results[i] = attempt(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {401, 503}, statuses
    busy = [r for r in results if r.status_code == 503]
    assert busy, statuses
    body = busy[0].json()
    assert body["code"] == 503 and body["message"] and body["description"], body
    assert busy[0].headers["Retry-After"].isdigit()
    # Nothing is wrong afterwards: the right password gets in.
    assert rest_call(node, fresh_address(), user, PASSWORD).status_code == 200


# ---- client secrets --------------------------------------------------------------------------

def test_client_secrets_are_stored_under_a_keyed_hash_and_still_authenticate(launcher):
    node = launcher.new()
    client = node.register_client(grantType="client_credentials")
    quoted = client["clientId"].replace("'", "''")
    assert node.count("oauth_clients",
                      f"client_id = '{quoted}' AND secret_hash LIKE '$hmac-sha256$%'") == 1
    hmac_key = "name = 'client_secret_hmac_key'"
    assert node.count("cluster_secrets", hmac_key) == 1

    def token(secret):
        return node.post("/oauth2/token", data={"grant_type": "client_credentials"},
                         auth=(client["clientId"], secret))

    assert token(client["clientSecret"]).status_code == 200
    assert token(client["clientSecret"] + "x").status_code == 401
    # The key lives in the database: after a restart the secret still verifies.
    node.restart()
    assert token(client["clientSecret"]).status_code == 200
    assert node.count("cluster_secrets", hmac_key) == 1


def test_an_argon2id_client_secret_still_verifies_and_is_rehashed(sqlite_launcher):
    node = sqlite_launcher.new(start=False, backend="sqlite")
    node.start()
    client = node.register_client(grantType="client_credentials")
    node.stop()
    # An argon2id hash as nodes before the change stored: the administrator's password hash
    # stands for a secret equal to that password.
    import sqlite3
    with sqlite3.connect(node.data_dir / "portico.db") as db:
        db.execute("UPDATE oauth_clients SET secret_hash = (SELECT password_hash FROM users "
                   "WHERE username = ?) WHERE client_id = ?", (ADMIN_USERNAME, client["clientId"]))
    node.start()
    quoted = client["clientId"].replace("'", "''")
    assert node.count("oauth_clients",
                      f"client_id = '{quoted}' AND secret_hash LIKE '$argon2id$%'") == 1
    response = node.post("/oauth2/token", data={"grant_type": "client_credentials"},
                         auth=(client["clientId"], node.admin_password))
    assert response.status_code == 200, response.text
    assert node.count("oauth_clients",
                      f"client_id = '{quoted}' AND secret_hash LIKE '$hmac-sha256$%'") == 1
    response = node.post("/oauth2/token", data={"grant_type": "client_credentials"},
                         auth=(client["clientId"], node.admin_password))
    assert response.status_code == 200, response.text


# ---- password and user-name rules ------------------------------------------------------------

def test_passwords_shorter_than_eight_characters_are_refused(quiet):
    username = new_name("short")
    signup = quiet.post(SIGNUP, json=signup_body(username, password="seven77"))
    assert signup.status_code == 400, signup.text
    assert signup.json()["code"] == 30003
    assert quiet.count("users", f"username = '{username}'") == 0
    scim = quiet.post(SCIM_USERS, auth=quiet.admin_auth, json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": username,
        "password": "seven77"})
    assert scim.status_code == 400, scim.text
    assert scim.json()["scimType"] == "invalidValue"
    assert quiet.count("users", f"username = '{username}'") == 0
    # Eight characters are enough.
    assert quiet.post(SIGNUP, json=signup_body(username, password="eight888")).status_code == 201
    user_id = quiet.get(SCIM_USERS, auth=quiet.admin_auth,
                        params={"filter": f'userName eq "{username}"'}).json()["Resources"][0]["id"]
    change = quiet.request("PATCH", quiet.https_url + f"{SCIM_USERS}/{user_id}",
                           auth=quiet.admin_auth, json={
                               "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                               "Operations": [{"op": "replace", "path": "password",
                                               "value": "short"}]})
    assert change.status_code == 400, change.text
    # The refused change changed nothing: the old password still works.
    assert rest_call(quiet, fresh_address(), username, "eight888").status_code == 200


def test_user_names_are_unique_whatever_their_case(quiet):
    username = new_name("case")
    assert quiet.post(SIGNUP, json=signup_body(username)).status_code == 201
    variant = username.capitalize()
    signup = quiet.post(SIGNUP, json=signup_body(variant))
    assert signup.status_code == 409, signup.text
    scim = quiet.post(SCIM_USERS, auth=quiet.admin_auth, json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": variant.upper(),
        "password": PASSWORD})
    assert scim.status_code == 409, scim.text
    assert quiet.count("users", f"lower(username) = '{username.lower()}'") == 1


def test_self_signup_stays_on_by_default(quiet):
    assert quiet.post(SIGNUP, json=signup_body(new_name("open"))).status_code == 201

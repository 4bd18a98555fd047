"""Accounts, grants and tokens (docs/security.md): grants end with their user, refresh-token
families keep their first expiry, REST API scopes go only to trusted clients, API keys are
no control-plane tokens, opaque tokens say whether a user signed in, introspection answers
a client only about its own tokens, a replayed authorization code ends its grant, and the
internal-API credential is compared whole.

Every test drives a real node over HTTPS and its gateway over HTTP, with real backends
(tests/gateway_backend.py); revocations are checked where users rely on them: at the token
endpoint (invalid_grant) and at the gateway (401 900901)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import urllib.parse
import uuid

import pytest
import requests

from devportal_support import DEVPORTAL
from devportal_support import PASSWORD as DEV_PASSWORD
from devportal_support import sign_up
from gateway_support import (backend_fixture, Caller, endpoint_config, error_code, gateway,
                             publish_api, wait_for_status)
from html_forms import FormParser
from portico_node import ADMIN_USERNAME

CALLBACK = "https://app.example/cb"
SCIM_USERS = "/scim2/Users"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
REGISTER = "/client-registration/v0.17/register"
ADMIN_API = "/api/am/admin/v4"
INTERNAL_USER = "gateway"
INTERNAL_PASSWORD = "e2e-internal-secret"
ALL_GRANTS = ["client_credentials", "password", "refresh_token", "authorization_code"]


@pytest.fixture(scope="module")
def node(module_launcher):
    # A known internal-API credential, so that the tests can call as a gateway does; loopback
    # backends, because the tests' backends listen there; the source-address login limit out
    # of the way of tests that send wrong credentials on purpose.
    return module_launcher.new(sections={
        "internal_api": {"username": INTERNAL_USER, "password": INTERNAL_PASSWORD},
        "security": {"allow_loopback_backends": True, "max_failed_logins_per_address": 1000}})


# Not `backend`: conftest's fixture of that name is the storage backend.
api_backend = backend_fixture("identity")


@pytest.fixture(scope="module")
def api(node, api_backend):
    name = "Id" + uuid.uuid4().hex[:8]
    ops = [{"target": target, "verb": "GET", "throttlingPolicy": "Unlimited", **fields}
           for target, fields in (("/pets", {}),
                                  ("/user-only", {"authType": "Application User"}),
                                  ("/app-only", {"authType": "Application"}))]
    return publish_api(node, endpoint=endpoint_config(api_backend.url), name=name,
                       securityScheme=["oauth2", "api_key"], operations=ops)


def path(api: dict, resource: str) -> str:
    return f"{api['context']}/1.0.0{resource}"


# ---- helpers -------------------------------------------------------------------------------

class UserCaller(Caller):
    """A signed-up developer's application, subscribed to `api`, whose PRODUCTION keys allow
    every grant (authorization code back to CALLBACK)."""

    def __init__(self, node, api, **app_fields):
        self.node = node
        self.developer = sign_up(node)
        self.app = self.developer.create_app(policy="Unlimited", **app_fields)
        self.keys = {}
        self.keys["PRODUCTION"] = self.developer.generate_keys(
            self.app["applicationId"], grantTypesToBeSupported=ALL_GRANTS, callbackUrl=CALLBACK)
        self.subscribe(api)

    def grant(self, form: dict) -> requests.Response:
        return self.node.request("POST", self.node.token_url, data=form,
                                 auth=self.credentials())

    def password_grant(self, password: str = DEV_PASSWORD) -> dict:
        response = self.grant({"grant_type": "password", "username": self.developer.username,
                               "password": password})
        assert response.status_code == 200, response.text
        return response.json()

    def refresh(self, refresh_token: str) -> requests.Response:
        return self.grant({"grant_type": "refresh_token", "refresh_token": refresh_token})


def scim_id(node, username: str) -> str:
    response = node.get(SCIM_USERS, params={"filter": f'userName eq "{username}"'},
                        auth=node.admin_auth)
    assert response.status_code == 200, response.text
    (user,) = response.json()["Resources"]
    return user["id"]


def scim_patch(node, username: str, operations: list[dict]) -> requests.Response:
    return node.request("PATCH", node.https_url + SCIM_USERS + "/" + scim_id(node, username),
                        json={"schemas": [PATCH_SCHEMA], "Operations": operations},
                        auth=node.admin_auth)


def assert_invalid_grant(response: requests.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant", response.text


def assert_refused_by_gateway(node, api, token: str) -> None:
    """The gateway refuses the token as revoked (401 900901) within a short poll: revocations
    reach it as events."""
    response = wait_for_status(node, "GET", path(api, "/pets"), 401, token, timeout=5.0)
    assert error_code(response) == 900901, response.text


def assert_accepted_by_gateway(node, api, token: str) -> None:
    wait_for_status(node, "GET", path(api, "/pets"), 200, token)


def introspect(node, token: str, auth) -> dict:
    response = node.post("/oauth2/introspect", data={"token": token}, auth=auth)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_the_next_second() -> None:
    start = int(time.time())
    while int(time.time()) == start:
        time.sleep(0.02)




def authorization_page(node, client_id: str, redirect_uri: str, scope: str = "",
                       verifier: str | None = None) -> requests.Response:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "state": secrets.token_urlsafe(8)}
    if scope:
        params["scope"] = scope
    if verifier:
        params["code_challenge"] = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        params["code_challenge_method"] = "S256"
    page = node.request("GET", node.https_url + "/oauth2/authorize?" +
                        urllib.parse.urlencode(params))
    assert page.status_code == 200, page.text
    return page


def sign_in(node, page: requests.Response, username: str, password: str) -> str:
    """Submits the login form of `page`; returns the authorization code sent back."""
    parser = FormParser()
    parser.feed(page.text)
    form = parser.forms[0]
    fields = dict(form["fields"], username=username, password=password)
    signed_in = node.request("POST", urllib.parse.urljoin(node.https_url, form["action"]),
                             data=fields)
    assert signed_in.status_code == 302, signed_in.text
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(
        signed_in.headers["Location"]).query))
    assert "code" in back, signed_in.headers["Location"]
    return back["code"]


# ---- 1. grants end with their user -----------------------------------------------------------

def test_deleting_a_user_revokes_their_refresh_and_access_tokens(node, api):
    caller = UserCaller(node, api)
    tokens = caller.password_grant()
    assert_accepted_by_gateway(node, api, tokens["access_token"])

    user_id = scim_id(node, caller.developer.username)
    deleted = node.request("DELETE", node.https_url + SCIM_USERS + "/" + user_id,
                           auth=node.admin_auth)
    assert deleted.status_code == 204, deleted.text

    assert_invalid_grant(caller.refresh(tokens["refresh_token"]))
    assert_refused_by_gateway(node, api, tokens["access_token"])
    assert introspect(node, tokens["access_token"], node.admin_auth) == {"active": False}


def test_a_password_change_revokes_the_users_refresh_and_access_tokens(node, api):
    caller = UserCaller(node, api)
    tokens = caller.password_grant()
    assert_accepted_by_gateway(node, api, tokens["access_token"])

    changed = scim_patch(node, caller.developer.username,
                         [{"op": "replace", "path": "password", "value": "a-new-password-2"}])
    assert changed.status_code == 200, changed.text

    assert_invalid_grant(caller.refresh(tokens["refresh_token"]))
    assert_refused_by_gateway(node, api, tokens["access_token"])
    # The new password starts a new grant, which the gateway accepts.
    fresh = caller.password_grant("a-new-password-2")
    assert_accepted_by_gateway(node, api, fresh["access_token"])
    assert caller.refresh(fresh["refresh_token"]).status_code == 200


def test_a_role_change_narrows_the_scopes_of_the_next_refreshed_token(node):
    # A client an administrator registered may carry REST API scopes.
    client = node.register_client(grantType="password refresh_token")
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "roles" + uuid.uuid4().hex[:8], "password": "role-password-1",
            "roles": [{"value": "subscriber"}, {"value": "creator"}]}
    created = node.post(SCIM_USERS, json=user, auth=node.admin_auth)
    assert created.status_code == 201, created.text
    granted = node.token(client, {"grant_type": "password", "username": user["userName"],
                                  "password": user["password"],
                                  "scope": "apim:subscribe apim:api_create"})
    assert granted.status_code == 200, granted.text
    assert sorted(granted.json()["scope"].split()) == ["apim:api_create", "apim:subscribe"]

    narrowed = scim_patch(node, user["userName"],
                          [{"op": "replace", "path": "roles", "value": [{"value": "creator"}]}])
    assert narrowed.status_code == 200, narrowed.text

    refreshed = node.token(client, {"grant_type": "refresh_token",
                                    "refresh_token": granted.json()["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["scope"] == "apim:api_create"
    claims = node.verify_jwt(refreshed.json()["access_token"])
    assert claims["scope"] == "apim:api_create"
    # The refreshed token cannot subscribe any more.
    bearer = {"Authorization": "Bearer " + refreshed.json()["access_token"]}
    assert node.get(DEVPORTAL + "/applications", headers=bearer).status_code == 403


def test_a_rotated_refresh_token_never_outlives_the_first_of_its_family(node, api):
    caller = UserCaller(node, api)
    tokens = caller.password_grant()
    first_expiry = introspect(node, tokens["refresh_token"], node.admin_auth)["exp"]
    refresh_token = tokens["refresh_token"]
    for _ in range(2):
        # A fresh lifetime from a later second would end later than the first one.
        wait_for_the_next_second()
        response = caller.refresh(refresh_token)
        assert response.status_code == 200, response.text
        refresh_token = response.json()["refresh_token"]
        assert introspect(node, refresh_token, node.admin_auth)["exp"] == first_expiry


# ---- 2. consent phishing ---------------------------------------------------------------------

def register_as(node, auth, name: str, callback: str) -> dict:
    response = node.post(REGISTER, auth=auth, json={
        "clientName": name, "grantType": "authorization_code", "callbackUrl": callback})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_developers_look_alike_client_gets_no_admin_scope(node):
    developer = sign_up(node)
    phishing = register_as(node, developer.auth, "Portico Publisher",
                           "https://collector.example/cb")
    page = authorization_page(node, phishing["clientId"], "https://collector.example/cb",
                              scope="apim:admin apim:api_create")
    # The page shows what is asked for and where the user goes afterwards (in what it
    # displays, not only in the form's hidden fields).
    shown = re.sub(r"<input[^>]*>", "", page.text)
    assert "apim:admin" in shown
    assert "apim:api_create" in shown
    assert "collector.example" in shown

    code = sign_in(node, page, ADMIN_USERNAME, node.admin_password)
    response = node.post("/oauth2/token", auth=(phishing["clientId"], phishing["clientSecret"]),
                         data={"grant_type": "authorization_code", "code": code,
                               "redirect_uri": "https://collector.example/cb"})
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "default"
    bearer = {"Authorization": "Bearer " + response.json()["access_token"]}
    assert node.get(ADMIN_API + "/environments", headers=bearer).status_code == 403


def test_an_administrator_decides_which_clients_are_trusted(node):
    developer = sign_up(node)
    client = register_as(node, developer.auth, "tool", "https://tool.example/cb")
    item = ADMIN_API + "/oauth-clients/" + client["clientId"]
    # Not the developer's decision.
    refused = node.request("PUT", node.https_url + item, json={"trusted": True},
                           auth=developer.auth)
    assert refused.status_code == 403, refused.text
    shown = node.get(item, auth=node.admin_auth)
    assert shown.status_code == 200, shown.text
    assert shown.json()["trusted"] is False

    trusted = node.request("PUT", node.https_url + item, json={"trusted": True},
                           auth=node.admin_auth)
    assert trusted.status_code == 200, trusted.text
    assert trusted.json()["trusted"] is True
    assert node.get(item, auth=node.admin_auth).json()["trusted"] is True

    page = authorization_page(node, client["clientId"], "https://tool.example/cb",
                              scope="apim:admin")
    code = sign_in(node, page, ADMIN_USERNAME, node.admin_password)
    response = node.post("/oauth2/token", auth=(client["clientId"], client["clientSecret"]),
                         data={"grant_type": "authorization_code", "code": code,
                               "redirect_uri": "https://tool.example/cb"})
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "apim:admin"

    bad = node.request("PUT", node.https_url + item, json={"trusted": "yes"},
                       auth=node.admin_auth)
    assert bad.status_code == 400, bad.text
    assert node.get(item, auth=node.admin_auth).json()["trusted"] is True
    missing = node.get(ADMIN_API + "/oauth-clients/no-such-client", auth=node.admin_auth)
    assert missing.status_code == 404, missing.text


# ---- 3. low items ----------------------------------------------------------------------------

def test_an_api_key_is_refused_as_a_control_plane_bearer_token(node, api):
    caller = UserCaller(node, api)
    key = caller.api_key()
    # Still good at the gateway, where it belongs.
    wait_for_status(node, "GET", path(api, "/pets"), 200, headers={"apikey": key})
    response = node.get(DEVPORTAL + "/applications", headers={"Authorization": "Bearer " + key})
    assert response.status_code == 401, response.text
    assert int(response.json()["code"]) == 900901
    assert introspect(node, key, node.admin_auth) == {"active": False}
    assert introspect(node, key, (INTERNAL_USER, INTERNAL_PASSWORD)) == {"active": False}


def test_opaque_tokens_say_whether_a_user_signed_in(node, api):
    caller = UserCaller(node, api, tokenType="OAUTH")
    user_token = caller.password_grant()["access_token"]
    application_token = caller.token()
    assert "." not in user_token and "." not in application_token
    assert introspect(node, user_token, node.admin_auth)["aut"] == "APPLICATION_USER"
    assert introspect(node, application_token, node.admin_auth)["aut"] == "APPLICATION"

    wait_for_status(node, "GET", path(api, "/pets"), 200, application_token)
    assert gateway(node, "GET", path(api, "/user-only"), user_token).status_code == 200
    assert gateway(node, "GET", path(api, "/app-only"), application_token).status_code == 200
    for resource, token in (("/user-only", application_token), ("/app-only", user_token)):
        response = gateway(node, "GET", path(api, resource), token)
        assert (response.status_code, error_code(response)) == (401, 900905), response.text


def test_introspection_answers_a_client_only_about_its_own_tokens(node):
    owner = node.register_client(grantType="client_credentials")
    other = node.register_client(grantType="client_credentials")
    token = node.token(owner, {"grant_type": "client_credentials"}).json()["access_token"]

    assert introspect(node, token, (other["clientId"], other["clientSecret"])) == \
        {"active": False}
    assert introspect(node, token, (owner["clientId"], owner["clientSecret"]))["active"] is True
    assert introspect(node, token, node.admin_auth)["active"] is True
    assert introspect(node, token, (INTERNAL_USER, INTERNAL_PASSWORD))["active"] is True


def test_a_replayed_authorization_code_revokes_the_tokens_issued_for_it(node, api):
    caller = UserCaller(node, api)
    client_id, _ = caller.credentials()
    verifier = secrets.token_urlsafe(48)
    page = authorization_page(node, client_id, CALLBACK, verifier=verifier)
    code = sign_in(node, page, caller.developer.username, DEV_PASSWORD)
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                "code_verifier": verifier}
    first = caller.grant(exchange)
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert_accepted_by_gateway(node, api, tokens["access_token"])

    assert_invalid_grant(caller.grant(exchange))

    assert_invalid_grant(caller.refresh(tokens["refresh_token"]))
    assert_refused_by_gateway(node, api, tokens["access_token"])


def test_the_internal_api_credential_is_compared_whole(node):
    url = node.https_url + "/internal/data/v1/environments"
    good = node.request("GET", url, auth=(INTERNAL_USER, INTERNAL_PASSWORD))
    assert good.status_code == 200, good.text
    for user, password in ((INTERNAL_USER, INTERNAL_PASSWORD[:-1]),
                           (INTERNAL_USER, INTERNAL_PASSWORD + "x"),
                           (INTERNAL_USER, ""),
                           (INTERNAL_USER + "x", INTERNAL_PASSWORD),
                           (INTERNAL_USER[:-1], INTERNAL_PASSWORD)):
        refused = node.request("GET", url, auth=(user, password))
        assert refused.status_code == 401, (user, password, refused.text)
    # Introspection takes the same credential, and only the whole of it.
    token = node.token(node.register_client(grantType="client_credentials"),
                       {"grant_type": "client_credentials"}).json()["access_token"]
    assert introspect(node, token, (INTERNAL_USER, INTERNAL_PASSWORD))["active"] is True
    near = node.post("/oauth2/introspect", data={"token": token},
                     auth=(INTERNAL_USER, INTERNAL_PASSWORD + "x"))
    assert near.status_code == 401, near.text

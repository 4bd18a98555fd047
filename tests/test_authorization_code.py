"""The authorization-code grant with PKCE S256: Authlib builds the authorization URL, the test
plays the browser (GET the login page, POST its form), Authlib redeems the code."""

import time
import urllib.parse

import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from html_forms import FormParser
from portico_node import ADMIN_USERNAME

CALLBACK = "https://app.example/cb"




def login_form(page_html):
    parser = FormParser()
    parser.feed(page_html)
    assert parser.forms, "the login page has no form"
    return parser.forms[0]


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def without_query(location):
    parts = urllib.parse.urlsplit(location)
    return urllib.parse.urlunsplit(parts._replace(query="", fragment=""))


@pytest.fixture(scope="module")
def client(node):
    return node.register_client(grantType="authorization_code refresh_token",
                                callbackUrl=CALLBACK)


@pytest.fixture(scope="module")
def public_client(node):
    return node.register_client(grantType="authorization_code refresh_token",
                                callbackUrl=CALLBACK, token_endpoint_auth_method="none")


def oauth_session(node, client, **kwargs):
    s = OAuth2Session(client["clientId"], client.get("clientSecret") or None,
                      redirect_uri=CALLBACK, code_challenge_method="S256", **kwargs)
    return node.session(s)


def sign_in(node, authorization_url, password=None):
    """Opens the login page and submits its form; returns the POST's response."""
    page = node.request("GET", authorization_url)
    assert page.status_code == 200, page.text
    form = login_form(page.text)
    assert form["method"] == "post"
    fields = dict(form["fields"])
    fields.update(username=ADMIN_USERNAME, password=password or node.admin_password)
    return node.post(form["action"], data=fields)


def authorize(node, client, verifier, **kwargs):
    """Runs the front channel; returns (redirect Location, state)."""
    s = oauth_session(node, client)
    url, state = s.create_authorization_url(node.https_url + "/oauth2/authorize",
                                            code_verifier=verifier, **kwargs)
    response = sign_in(node, url)
    assert response.status_code == 302, response.text
    return response.headers["Location"], state


def test_pkce_flow_with_authlib_yields_tokens(node, client):
    verifier = generate_token(48)
    s = oauth_session(node, client, scope="openid")
    url, state = s.create_authorization_url(node.https_url + "/oauth2/authorize",
                                            code_verifier=verifier)
    page = node.request("GET", url)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    form = login_form(page.text)
    assert {"username", "password"} <= form["fields"].keys()

    response = sign_in(node, url)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert without_query(location) == CALLBACK
    assert query_of(location)["state"] == state
    assert query_of(location)["code"]

    token = s.fetch_token(node.token_url, authorization_response=location,
                          code_verifier=verifier)
    assert token["refresh_token"]
    claims = node.verify_jwt(token["access_token"], audience=client["clientId"])
    assert claims["sub"] == ADMIN_USERNAME
    assert claims["scope"] == "openid"


def test_reused_code_is_invalid_grant(node, client):
    verifier = generate_token(48)
    location, _ = authorize(node, client, verifier)
    code = query_of(location)["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
            "code_verifier": verifier}
    assert node.token(client, form).status_code == 200
    again = node.token(client, form)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_wrong_code_verifier_is_invalid_grant(node, client):
    location, _ = authorize(node, client, generate_token(48))
    response = node.token(client, {"grant_type": "authorization_code",
                                   "code": query_of(location)["code"], "redirect_uri": CALLBACK,
                                   "code_verifier": generate_token(48)})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_missing_code_verifier_is_invalid_grant(node, client):
    location, _ = authorize(node, client, generate_token(48))
    response = node.token(client, {"grant_type": "authorization_code",
                                   "code": query_of(location)["code"], "redirect_uri": CALLBACK})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_unregistered_redirect_uri_gets_an_error_page_and_no_redirect(node, client):
    s = oauth_session(node, client)
    url, _ = s.create_authorization_url(node.https_url + "/oauth2/authorize",
                                        code_verifier=generate_token(48),
                                        redirect_uri="https://attacker.example/cb")
    response = node.request("GET", url)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")


def test_plain_code_challenge_method_is_sent_back_as_invalid_request(node, client):
    verifier = generate_token(48)
    query = {"response_type": "code", "client_id": client["clientId"], "redirect_uri": CALLBACK,
             "state": "xyz", "code_challenge": verifier, "code_challenge_method": "plain"}
    response = node.get("/oauth2/authorize", params=query, allow_redirects=False)
    assert response.status_code == 302
    assert without_query(response.headers["Location"]) == CALLBACK
    back = query_of(response.headers["Location"])
    assert back["error"] == "invalid_request"
    assert back["state"] == "xyz"
    assert "code" not in back


def test_public_client_without_pkce_is_sent_back_invalid_request(node, public_client):
    query = {"response_type": "code", "client_id": public_client["clientId"],
             "redirect_uri": CALLBACK, "state": "s1"}
    response = node.get("/oauth2/authorize", params=query, allow_redirects=False)
    assert response.status_code == 302
    back = query_of(response.headers["Location"])
    assert back["error"] == "invalid_request"
    assert "code" not in back


def test_public_client_with_pkce_gets_a_token_without_a_secret(node, public_client):
    verifier = generate_token(48)
    location, _ = authorize(node, public_client, verifier)
    response = node.post("/oauth2/token", data={
        "grant_type": "authorization_code", "code": query_of(location)["code"],
        "redirect_uri": CALLBACK, "code_verifier": verifier,
        "client_id": public_client["clientId"]})
    assert response.status_code == 200, response.text
    assert "Authorization" not in response.request.headers
    claims = node.verify_jwt(response.json()["access_token"], audience=public_client["clientId"])
    assert claims["client_id"] == public_client["clientId"]


def test_public_client_with_authlib_auth_method_none(node, public_client):
    verifier = generate_token(48)
    s = oauth_session(node, public_client, token_endpoint_auth_method="none")
    url, _ = s.create_authorization_url(node.https_url + "/oauth2/authorize",
                                        code_verifier=verifier)
    location = sign_in(node, url).headers["Location"]
    token = s.fetch_token(node.token_url, authorization_response=location,
                          code_verifier=verifier)
    assert token["access_token"]


def test_wrong_password_at_login_shows_the_page_again_without_a_code(node, client):
    s = oauth_session(node, client)
    url, _ = s.create_authorization_url(node.https_url + "/oauth2/authorize",
                                        code_verifier=generate_token(48))
    response = sign_in(node, url, password="not-the-password")
    assert response.status_code == 401
    assert "Location" not in response.headers
    assert "code=" not in response.text
    form = login_form(response.text)
    assert form["fields"]["client_id"] == client["clientId"]


def test_code_of_one_client_is_invalid_for_another(node, client):
    verifier = generate_token(48)
    location, _ = authorize(node, client, verifier)
    other = node.register_client(grantType="authorization_code", callbackUrl=CALLBACK)
    response = node.token(other, {"grant_type": "authorization_code",
                                  "code": query_of(location)["code"], "redirect_uri": CALLBACK,
                                  "code_verifier": verifier})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_s256_challenge_is_what_the_login_form_carries(node, client):
    verifier = generate_token(48)
    s = oauth_session(node, client)
    url, _ = s.create_authorization_url(node.https_url + "/oauth2/authorize",
                                        code_verifier=verifier)
    form = login_form(node.request("GET", url).text)
    assert form["fields"]["code_challenge"] == create_s256_code_challenge(verifier)
    assert form["fields"]["code_challenge_method"] == "S256"


def test_state_with_reserved_characters_comes_back_unchanged(node, client):
    state = "a b&c=d/é?#%"
    location, _ = authorize(node, client, generate_token(48), state=state)
    assert query_of(location)["state"] == state


def test_login_page_escapes_request_parameters(node, client):
    state = '"><script>alert(1)</script>'
    s = oauth_session(node, client)
    url, _ = s.create_authorization_url(node.https_url + "/oauth2/authorize",
                                        code_verifier=generate_token(48), state=state)
    page = node.request("GET", url)
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert login_form(page.text)["fields"]["state"] == state
    assert page.headers.get("X-Frame-Options") == "DENY"


def test_expired_code_is_invalid_grant(launcher):
    node = launcher.new(sections={"oauth": {"authorization_code_lifetime_seconds": 1}})
    client = node.register_client(grantType="authorization_code", callbackUrl=CALLBACK)
    verifier = generate_token(48)
    location, _ = authorize(node, client, verifier)
    # Lifetimes count whole seconds: past two seconds the one-second code has expired.
    time.sleep(2.1)
    response = node.token(client, {"grant_type": "authorization_code",
                                   "code": query_of(location)["code"], "redirect_uri": CALLBACK,
                                   "code_verifier": verifier})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def authorization_query(client, verifier, **overrides):
    query = {"response_type": "code", "client_id": client["clientId"], "redirect_uri": CALLBACK,
             "state": "st", "code_challenge": create_s256_code_challenge(verifier),
             "code_challenge_method": "S256"}
    query.update(overrides)
    return query


def test_callback_query_is_kept_when_the_code_is_added(node):
    callback = "https://app.example/cb?tenant=7"
    client = node.register_client(grantType="authorization_code", callbackUrl=callback)
    form = authorization_query(client, generate_token(48), redirect_uri=callback)
    response = node.post("/oauth2/authorize", data={**form, "username": ADMIN_USERNAME,
                                                    "password": node.admin_password})
    assert response.status_code == 302
    back = query_of(response.headers["Location"])
    assert back["tenant"] == "7"
    assert back["code"] and back["state"] == "st"


def test_unknown_scope_at_login_is_sent_back_as_invalid_scope(node, client):
    form = authorization_query(client, generate_token(48), scope="nosuch")
    response = node.post("/oauth2/authorize", data={**form, "username": ADMIN_USERNAME,
                                                    "password": node.admin_password})
    assert response.status_code == 302
    back = query_of(response.headers["Location"])
    assert back["error"] == "invalid_scope"
    assert "code" not in back


def test_response_type_token_is_sent_back_as_unsupported(node, client):
    query = authorization_query(client, generate_token(48), response_type="token")
    response = node.get("/oauth2/authorize", params=query)
    assert response.status_code == 302
    assert query_of(response.headers["Location"])["error"] == "unsupported_response_type"


def test_unknown_client_id_gets_an_error_page_and_no_redirect(node, client):
    query = authorization_query(client, generate_token(48), client_id="no-such-client")
    response = node.get("/oauth2/authorize", params=query)
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_redirect_uri_differing_at_the_token_endpoint_is_invalid_grant(node, client):
    verifier = generate_token(48)
    location, _ = authorize(node, client, verifier)
    response = node.token(client, {"grant_type": "authorization_code",
                                   "code": query_of(location)["code"], "code_verifier": verifier,
                                   "redirect_uri": "https://app.example/other"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_redirect_uri_sent_to_authorize_is_required_at_the_token_endpoint(node, client):
    # RFC 6749 §4.1.3: when the authorization request named a redirect_uri, the token request
    # must repeat it.
    verifier = generate_token(48)
    location, _ = authorize(node, client, verifier)
    response = node.token(client, {"grant_type": "authorization_code",
                                   "code": query_of(location)["code"], "code_verifier": verifier})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_redirect_uri_may_be_left_out_of_both_requests_for_a_single_callback(node, client):
    verifier = generate_token(48)
    query = authorization_query(client, verifier)
    del query["redirect_uri"]
    page = node.get("/oauth2/authorize", params=query)
    assert page.status_code == 200, page.text
    fields = dict(login_form(page.text)["fields"])
    assert "redirect_uri" not in fields
    fields.update(username=ADMIN_USERNAME, password=node.admin_password)
    response = node.post("/oauth2/authorize", data=fields)
    assert response.status_code == 302
    assert without_query(response.headers["Location"]) == CALLBACK
    response = node.token(client, {"grant_type": "authorization_code",
                                   "code": query_of(response.headers["Location"])["code"],
                                   "code_verifier": verifier})
    assert response.status_code == 200, response.text

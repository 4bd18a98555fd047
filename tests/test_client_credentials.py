"""The client_credentials grant, driven by a real OAuth 2.0 client library (Authlib), and the
JWT access token it yields, verified with PyJWT against the node's JWKS."""

import json
import time

import jwt
import pytest
from authlib.integrations.requests_client import OAuth2Session


@pytest.fixture(scope="module")
def client(node):
    return node.register_client(grantType="client_credentials")


def fetch(node, client, auth_method="client_secret_basic", **kwargs):
    session = OAuth2Session(client["clientId"], client["clientSecret"],
                            token_endpoint_auth_method=auth_method)
    node.session(session)
    return session.fetch_token(node.token_url, grant_type="client_credentials", **kwargs)


def test_authlib_gets_a_bearer_token_with_client_secret_basic(node, client):
    token = fetch(node, client)
    assert token["token_type"] == "Bearer"
    assert token["access_token"]
    assert token["expires_in"] == 3600


def test_client_credentials_response_has_no_refresh_token(node, client):
    assert "refresh_token" not in fetch(node, client)


def test_authlib_gets_a_token_with_client_secret_post(node, client):
    token = fetch(node, client, auth_method="client_secret_post")
    assert node.verify_jwt(token["access_token"])["client_id"] == client["clientId"]


def test_access_token_is_an_rs256_jwt_signed_by_a_jwks_key(node, client):
    token = fetch(node, client)["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["kid"] in [k["kid"] for k in node.jwks()["keys"]]
    node.verify_jwt(token, audience=client["clientId"])  # raises unless the signature verifies


def test_access_token_claims_name_issuer_client_and_scope(node, client):
    token = fetch(node, client, scope="default")
    claims = node.verify_jwt(token["access_token"], audience=client["clientId"])
    assert claims["iss"] == node.metadata()["issuer"]
    assert claims["sub"] == "admin"  # the client's owner: the administrator registered it
    assert claims["aud"] == client["clientId"]
    assert claims["azp"] == client["clientId"]
    assert claims["client_id"] == client["clientId"]
    assert claims["scope"] == token["scope"] == "default"


def test_access_token_lifetime_defaults_to_one_hour(node, client):
    claims = node.verify_jwt(fetch(node, client)["access_token"])
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] - claims["iat"] == 3600


def test_every_access_token_has_its_own_jti(node, client):
    first = node.verify_jwt(fetch(node, client)["access_token"])
    second = node.verify_jwt(fetch(node, client)["access_token"])
    assert first["jti"] and second["jti"]
    assert first["jti"] != second["jti"]


def test_token_with_a_tampered_payload_does_not_verify(node, client):
    token = fetch(node, client)["access_token"]
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["scope"] = "apim:admin"
    forged_payload = jwt.utils.base64url_encode(
        json.dumps(claims, separators=(",", ":")).encode()).decode()
    forged = ".".join([header, forged_payload, signature])
    with pytest.raises(jwt.InvalidSignatureError):
        node.verify_jwt(forged)
    assert node.introspect(forged) == {"active": False}


def test_configured_access_token_lifetime_is_honoured_and_expiry_ends_validity(launcher):
    node = launcher.new(sections={"oauth": {"access_token_lifetime_seconds": 1}})
    client = node.register_client(grantType="client_credentials")
    token = node.token(client, {"grant_type": "client_credentials"}).json()
    assert token["expires_in"] == 1
    # A 1 s token issued late in one second is expired by the next whole second, which the
    # JWKS and metadata reads before the check may reach: its expiry is the introspection's
    # to tell, below.
    claims = node.verify_jwt(token["access_token"], leeway=5)
    assert claims["exp"] - claims["iat"] == 1
    # Poll (bounded) until the node reports the token expired; no fixed sleep.
    deadline = time.monotonic() + 10
    while node.introspect(token["access_token"])["active"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert node.introspect(token["access_token"]) == {"active": False}


def test_configured_issuer_is_the_tokens_iss(launcher):
    issuer = "https://km.example.test/oauth2/token"
    node = launcher.new(sections={"oauth": {"issuer": issuer}})
    assert node.metadata()["issuer"] == issuer
    assert node.metadata()["token_endpoint"] == "https://km.example.test/oauth2/token"
    client = node.register_client(grantType="client_credentials")
    token = node.token(client, {"grant_type": "client_credentials"}).json()["access_token"]
    assert node.verify_jwt(token)["iss"] == issuer
    assert node.introspect(token)["active"] is True

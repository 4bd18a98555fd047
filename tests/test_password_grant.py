"""The resource-owner password grant (the reference's portals use it), through Authlib."""

import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from portico_node import ADMIN_USERNAME


@pytest.fixture(scope="module")
def client(node):
    return node.register_client(grantType="password refresh_token")


def session(node, client, scope=None):
    s = OAuth2Session(client["clientId"], client["clientSecret"], scope=scope,
                      token_endpoint_auth_method="client_secret_basic")
    return node.session(s)


def test_password_grant_returns_access_and_refresh_token(node, client):
    token = session(node, client).fetch_token(node.token_url, username=ADMIN_USERNAME,
                                              password=node.admin_password)
    assert token["token_type"] == "Bearer"
    assert token["refresh_token"]
    claims = node.verify_jwt(token["access_token"], audience=client["clientId"])
    assert claims["sub"] == ADMIN_USERNAME


def test_admin_gets_the_rest_api_scopes_it_asks_for(node, client):
    token = session(node, client, scope="apim:api_view apim:subscribe").fetch_token(
        node.token_url, username=ADMIN_USERNAME, password=node.admin_password)
    assert sorted(token["scope"].split()) == ["apim:api_view", "apim:subscribe"]
    claims = node.verify_jwt(token["access_token"])
    assert sorted(claims["scope"].split()) == ["apim:api_view", "apim:subscribe"]


def test_no_scope_requested_gives_the_default_scope(node, client):
    token = session(node, client).fetch_token(node.token_url, username=ADMIN_USERNAME,
                                              password=node.admin_password)
    assert token["scope"] == "default"


@pytest.mark.skip(reason="no REST API to create a non-admin user exists yet; the role "
                         "filtering of REST scopes for a subscriber cannot be reached end to end")
def test_subscriber_does_not_get_publisher_scopes(node, client):
    pass


def test_unknown_scope_is_invalid_scope(node, client):
    with pytest.raises(OAuthError) as error:
        session(node, client, scope="nosuch").fetch_token(
            node.token_url, username=ADMIN_USERNAME, password=node.admin_password)
    assert error.value.error == "invalid_scope"


def test_wrong_password_is_invalid_grant(node, client):
    response = node.token(client, {"grant_type": "password", "username": ADMIN_USERNAME,
                                   "password": "not-the-password"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_unknown_user_is_invalid_grant(node, client):
    response = node.token(client, {"grant_type": "password", "username": "nobody-here",
                                   "password": "whatever"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_password_grant_without_refresh_grant_issues_no_refresh_token(node):
    client = node.register_client(grantType="password")
    response = node.token(client, {"grant_type": "password", "username": ADMIN_USERNAME,
                                   "password": node.admin_password})
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()

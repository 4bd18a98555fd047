"""Refresh-token rotation (RFC 9700 §4.14): every refresh returns a new refresh token, and a
replayed one revokes its whole family."""

import time

import pytest

from portico_node import ADMIN_USERNAME


@pytest.fixture(scope="module")
def client(node):
    return node.register_client(grantType="password refresh_token")


@pytest.fixture(scope="module")
def other_client(node):
    return node.register_client(grantType="password refresh_token")


def password_tokens(node, client, scope="apim:api_view apim:subscribe"):
    response = node.token(client, {"grant_type": "password", "username": ADMIN_USERNAME,
                                   "password": node.admin_password, "scope": scope})
    assert response.status_code == 200, response.text
    return response.json()


def refresh(node, client, refresh_token, **extra):
    return node.token(client, {"grant_type": "refresh_token", "refresh_token": refresh_token,
                               **extra})


def assert_oauth_error(response, error):
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error


def test_refresh_returns_new_access_and_refresh_tokens(node, client):
    first = password_tokens(node, client)
    response = refresh(node, client, first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] and second["refresh_token"] != first["refresh_token"]
    claims = node.verify_jwt(second["access_token"], audience=client["clientId"])
    assert claims["sub"] == ADMIN_USERNAME
    assert second["scope"] == first["scope"]


def test_used_refresh_token_is_invalid_grant(node, client):
    first = password_tokens(node, client)
    assert refresh(node, client, first["refresh_token"]).status_code == 200
    assert_oauth_error(refresh(node, client, first["refresh_token"]), "invalid_grant")


def test_replay_revokes_the_refresh_token_issued_by_the_rotation(node, client):
    first = password_tokens(node, client)
    rotated = refresh(node, client, first["refresh_token"]).json()
    assert_oauth_error(refresh(node, client, first["refresh_token"]), "invalid_grant")
    assert_oauth_error(refresh(node, client, rotated["refresh_token"]), "invalid_grant")
    assert node.introspect(rotated["refresh_token"])["active"] is False


def test_refresh_with_another_clients_credentials_is_invalid_grant(node, client, other_client):
    tokens = password_tokens(node, client)
    assert_oauth_error(refresh(node, other_client, tokens["refresh_token"]), "invalid_grant")


def test_another_clients_attempt_does_not_burn_the_refresh_token(node, client, other_client):
    tokens = password_tokens(node, client)
    refresh(node, other_client, tokens["refresh_token"])
    response = refresh(node, client, tokens["refresh_token"])
    assert response.status_code == 200, response.text


def test_refresh_can_narrow_the_scope(node, client):
    tokens = password_tokens(node, client)
    response = refresh(node, client, tokens["refresh_token"], scope="apim:api_view")
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "apim:api_view"
    claims = node.verify_jwt(response.json()["access_token"])
    assert claims["scope"] == "apim:api_view"


def test_refresh_cannot_widen_the_scope(node, client):
    tokens = password_tokens(node, client, scope="apim:api_view")
    response = refresh(node, client, tokens["refresh_token"],
                       scope="apim:api_view apim:subscribe")
    assert_oauth_error(response, "invalid_scope")


def test_refused_widening_leaves_the_refresh_token_usable(node, client):
    # An error response must change nothing (RFC 6749 §5.2): the client may retry without
    # the wider scope and must not lose its grant.
    tokens = password_tokens(node, client, scope="apim:api_view")
    refresh(node, client, tokens["refresh_token"], scope="apim:api_view apim:subscribe")
    response = refresh(node, client, tokens["refresh_token"])
    assert response.status_code == 200, response.text


def test_refresh_token_introspects_active_until_used(node, client):
    tokens = password_tokens(node, client)
    info = node.introspect(tokens["refresh_token"])
    assert info["active"] is True
    assert info["client_id"] == client["clientId"]
    assert info["token_type"] == "refresh_token"
    refresh(node, client, tokens["refresh_token"])
    assert node.introspect(tokens["refresh_token"])["active"] is False


def test_short_lived_refresh_token_expires(launcher):
    node = launcher.new(sections={"oauth": {"refresh_token_lifetime_seconds": 1}})
    client = node.register_client(grantType="password refresh_token")
    tokens = password_tokens(node, client)
    # The token lives one second; wait until the node says it has expired rather than
    # sleeping a fixed time (polling bounded to 10 s).
    deadline = time.monotonic() + 10
    while node.introspect(tokens["refresh_token"])["active"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert_oauth_error(refresh(node, client, tokens["refresh_token"]), "invalid_grant")

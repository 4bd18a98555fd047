"""RFC 7662 introspection and RFC 7009 revocation, for JWT and opaque access tokens."""

import pytest

from portico_node import is_jwt


@pytest.fixture(scope="module")
def client(node):
    return node.register_client(grantType="client_credentials password refresh_token")


@pytest.fixture(scope="module")
def opaque_client(node):
    return node.register_client(grantType="client_credentials", tokenType="OAUTH")


def access_token(node, client, scope="default"):
    response = node.token(client, {"grant_type": "client_credentials", "scope": scope})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_introspection_by_the_admin_reports_an_active_token(node, client):
    token = access_token(node, client)
    info = node.introspect(token)
    assert info["active"] is True
    assert info["client_id"] == client["clientId"]
    assert info["scope"] == "default"
    assert info["exp"] == node.verify_jwt(token)["exp"]
    assert info["token_type"] == "Bearer"


def test_introspection_by_a_confidential_client_is_allowed(node, client):
    token = access_token(node, client)
    response = node.post("/oauth2/introspect", data={"token": token},
                         auth=(client["clientId"], client["clientSecret"]))
    assert response.status_code == 200, response.text
    assert response.json()["active"] is True


def test_introspection_without_authentication_is_401(node, client):
    response = node.post("/oauth2/introspect", data={"token": access_token(node, client)})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in response.headers


def test_introspection_with_a_wrong_password_is_401(node, client):
    response = node.post("/oauth2/introspect", data={"token": access_token(node, client)},
                         auth=("admin", "not-the-password"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_revocation_answers_200(node, client):
    response = node.revoke(client, access_token(node, client))
    assert response.status_code == 200, response.text


def test_revoked_jwt_introspects_inactive(node, client):
    token = access_token(node, client)
    node.revoke(client, token)
    assert node.introspect(token) == {"active": False}


def test_revoking_one_token_leaves_others_active(node, client):
    kept, revoked = access_token(node, client), access_token(node, client)
    node.revoke(client, revoked)
    assert node.introspect(kept)["active"] is True


def test_revoking_an_unknown_token_answers_200(node, client):
    assert node.revoke(client, "no-such-token").status_code == 200


def test_revocation_without_client_authentication_is_401_invalid_client(node, client):
    token = access_token(node, client)
    response = node.post("/oauth2/revoke", data={"token": token})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in response.headers
    assert node.introspect(token)["active"] is True


def test_another_client_cannot_revoke_a_token(node, client):
    other = node.register_client(grantType="client_credentials")
    token = access_token(node, client)
    assert node.revoke(other, token).status_code == 200  # RFC 7009 §2.2: no disclosure
    assert node.introspect(token)["active"] is True


def test_revoking_a_refresh_token_stops_it_refreshing(node, client):
    response = node.token(client, {"grant_type": "password", "username": "admin",
                                   "password": node.admin_password})
    refresh_token = response.json()["refresh_token"]
    assert node.revoke(client, refresh_token).status_code == 200
    assert node.introspect(refresh_token)["active"] is False
    again = node.token(client, {"grant_type": "refresh_token", "refresh_token": refresh_token})
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_opaque_client_gets_a_token_that_is_not_a_jwt(node, opaque_client):
    assert not is_jwt(access_token(node, opaque_client))


def test_opaque_token_introspects_active(node, opaque_client):
    info = node.introspect(access_token(node, opaque_client))
    assert info["active"] is True
    assert info["client_id"] == opaque_client["clientId"]
    assert info["scope"] == "default"


def test_revoked_opaque_token_introspects_inactive(node, opaque_client):
    token = access_token(node, opaque_client)
    assert node.revoke(opaque_client, token).status_code == 200
    assert node.introspect(token) == {"active": False}


def test_introspecting_garbage_is_inactive(node):
    assert node.introspect("not-a-token") == {"active": False}
    assert node.introspect("a.b.c") == {"active": False}

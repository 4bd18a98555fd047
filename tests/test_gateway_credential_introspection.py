"""Token introspection (/oauth2/introspect) with a gateway's own credential (admin's
gateway-credentials API), as with the cluster's shared [internal_api] credential: a gateway
that has its own credential can validate opaque tokens; once the credential is revoked it is
answered 401."""

from __future__ import annotations


def create_gateway_credential(node, name: str) -> dict:
    created = node.post("/api/am/admin/v4/gateway-credentials", auth=node.admin_auth,
                        json={"name": name, "environment": "Default"})
    assert created.status_code == 201, created.text
    return created.json()


def opaque_token(node) -> str:
    client = node.register_client(grantType="client_credentials", tokenType="OAUTH")
    response = node.token(client, {"grant_type": "client_credentials"})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert token.count(".") != 2  # not a JWT: only introspection can tell what it is
    return token


def introspect(node, token: str, auth: tuple[str, str]):
    return node.post("/oauth2/introspect", data={"token": token}, auth=auth)


def test_a_gateway_introspects_opaque_tokens_with_its_own_credential(node):
    credential = create_gateway_credential(node, "gw-introspect-1")
    auth = (credential["username"], credential["password"])
    token = opaque_token(node)
    answer = introspect(node, token, auth)
    assert answer.status_code == 200, answer.text
    assert answer.json()["active"] is True
    assert answer.json()["token_type"] == "Bearer"
    assert introspect(node, "no-such-token", auth).json() == {"active": False}


def test_a_revoked_gateway_credential_cannot_introspect(node):
    credential = create_gateway_credential(node, "gw-introspect-2")
    auth = (credential["username"], credential["password"])
    token = opaque_token(node)
    assert introspect(node, token, auth).status_code == 200
    revoked = node.request("DELETE", node.https_url +
                           f"/api/am/admin/v4/gateway-credentials/{credential['id']}",
                           auth=node.admin_auth)
    assert revoked.status_code == 200, revoked.text
    refused = introspect(node, token, auth)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    # A wrong password of a live credential is refused the same way.
    other = create_gateway_credential(node, "gw-introspect-3")
    wrong = introspect(node, token, (other["username"], credential["password"]))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"

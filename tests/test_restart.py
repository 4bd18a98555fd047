"""A restart (same configuration and data) keeps signing keys, clients, tokens and revocations."""

import pytest

from portico_node import ADMIN_USERNAME


@pytest.fixture(scope="module")
def restarted(module_launcher):
    """State made before a restart, and the restarted node."""
    node = module_launcher.new()
    client = node.register_client(grantType="client_credentials password refresh_token")
    opaque_client = node.register_client(grantType="client_credentials", tokenType="OAUTH")

    def cc_token(c):
        response = node.token(c, {"grant_type": "client_credentials"})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    password = node.token(client, {"grant_type": "password", "username": ADMIN_USERNAME,
                                   "password": node.admin_password}).json()
    before = {
        "client": client,
        "opaque_client": opaque_client,
        "kid": [k["kid"] for k in node.jwks()["keys"]],
        "kept": cc_token(client),
        "revoked": cc_token(client),
        "opaque_kept": cc_token(opaque_client),
        "opaque_revoked": cc_token(opaque_client),
        "refresh_token": password["refresh_token"],
    }
    assert node.revoke(client, before["revoked"]).status_code == 200
    assert node.revoke(opaque_client, before["opaque_revoked"]).status_code == 200
    node.restart()
    return node, before


def test_restart_keeps_the_signing_key(restarted):
    node, before = restarted
    assert [k["kid"] for k in node.jwks()["keys"]] == before["kid"]


def test_token_issued_before_restart_still_verifies(restarted):
    node, before = restarted
    claims = node.verify_jwt(before["kept"], audience=before["client"]["clientId"])
    assert claims["client_id"] == before["client"]["clientId"]


def test_token_issued_before_restart_introspects_active(restarted):
    node, before = restarted
    assert node.introspect(before["kept"])["active"] is True


def test_revoked_token_stays_inactive_after_restart(restarted):
    node, before = restarted
    assert node.introspect(before["revoked"]) == {"active": False}


def test_opaque_tokens_and_their_revocation_survive_restart(restarted):
    node, before = restarted
    assert node.introspect(before["opaque_kept"])["active"] is True
    assert node.introspect(before["opaque_revoked"]) == {"active": False}


def test_client_credentials_still_work_after_restart(restarted):
    node, before = restarted
    response = node.token(before["client"], {"grant_type": "client_credentials"})
    assert response.status_code == 200, response.text


def test_refresh_token_still_works_after_restart(restarted):
    node, before = restarted
    response = node.token(before["client"], {"grant_type": "refresh_token",
                                             "refresh_token": before["refresh_token"]})
    assert response.status_code == 200, response.text


def test_admin_is_not_recreated_with_a_new_password(launcher):
    # [admin] password seeds the first start only; changing it later must not reset it.
    node = launcher.new()
    node.stop()
    node.configure({"admin": {"password": "changed-in-config"}})
    node.start()
    response = node.post("/client-registration/v0.17/register",
                         json={"clientName": "x", "grantType": "client_credentials"},
                         auth=(ADMIN_USERNAME, "changed-in-config"))
    assert response.status_code == 401
    assert node.register_client(grantType="client_credentials")["clientId"]

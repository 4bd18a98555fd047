"""`portico keys rotate` on a stopped node: a new active key, the old one kept for
verification until its tokens have expired."""

import jwt
import pytest


@pytest.fixture(scope="module")
def rotated(module_launcher):
    node = module_launcher.new()
    client = node.register_client(grantType="client_credentials")
    old_kid = node.jwks()["keys"][0]["kid"]
    old_token = node.token(client, {"grant_type": "client_credentials"}).json()["access_token"]
    node.stop()
    result = node.cli("keys", "rotate")
    assert result.returncode == 0, result.stderr
    node.start()
    return node, client, old_kid, old_token, result.stdout


def test_rotate_command_names_the_new_active_key(rotated):
    node, _, old_kid, _, stdout = rotated
    assert "active signing key" in stdout
    new_kid = stdout.split()[-1]
    assert new_kid != old_kid
    assert new_kid in [k["kid"] for k in node.jwks()["keys"]]


def test_jwks_holds_the_old_and_the_new_key(rotated):
    node, _, old_kid, _, _ = rotated
    kids = [k["kid"] for k in node.jwks()["keys"]]
    assert len(kids) == 2
    assert old_kid in kids


def test_token_issued_before_rotation_still_verifies(rotated):
    node, client, old_kid, old_token, _ = rotated
    assert jwt.get_unverified_header(old_token)["kid"] == old_kid
    node.verify_jwt(old_token, audience=client["clientId"])


def test_token_issued_before_rotation_introspects_active(rotated):
    node, _, _, old_token, _ = rotated
    assert node.introspect(old_token)["active"] is True


def test_new_tokens_carry_the_new_kid(rotated):
    node, client, old_kid, _, stdout = rotated
    token = node.token(client, {"grant_type": "client_credentials"}).json()["access_token"]
    kid = jwt.get_unverified_header(token)["kid"]
    assert kid != old_kid
    assert kid == stdout.split()[-1]
    node.verify_jwt(token, audience=client["clientId"])


def test_changing_the_signing_algorithm_rotates_and_keeps_old_tokens_valid(launcher):
    node = launcher.new()
    client = node.register_client(grantType="client_credentials")
    rs256_token = node.token(client, {"grant_type": "client_credentials"}).json()["access_token"]
    node.stop()
    node.configure({"oauth": {"signing_algorithm": "ES256"}})
    node.start()
    algorithms = sorted(k["alg"] for k in node.jwks()["keys"])
    assert algorithms == ["ES256", "RS256"]
    node.verify_jwt(rs256_token, audience=client["clientId"])
    assert node.introspect(rs256_token)["active"] is True
    es256_token = node.token(client, {"grant_type": "client_credentials"}).json()["access_token"]
    assert jwt.get_unverified_header(es256_token)["alg"] == "ES256"
    node.verify_jwt(es256_token, audience=client["clientId"])

"""Single-use credentials stay single-use under concurrent redemption: the database, not the
process, decides the one winner (a row claim on PostgreSQL, the single writer on SQLite)."""

import concurrent.futures

import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from portico_node import ADMIN_USERNAME

ATTEMPTS = 8
CALLBACK = "https://app.example/cb"


@pytest.fixture(scope="module")
def client(node):
    return node.register_client(grantType="password refresh_token authorization_code",
                                callbackUrl=CALLBACK)


def all_at_once(send):
    with concurrent.futures.ThreadPoolExecutor(ATTEMPTS) as pool:
        return list(pool.map(lambda _: send(), range(ATTEMPTS)))


def test_concurrent_refreshes_with_one_token_have_exactly_one_winner(node, client):
    refresh_token = node.token(client, {"grant_type": "password", "username": ADMIN_USERNAME,
                                        "password": node.admin_password}).json()["refresh_token"]
    responses = all_at_once(lambda: node.token(
        client, {"grant_type": "refresh_token", "refresh_token": refresh_token}))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (ATTEMPTS - 1), [r.text for r in responses]
    assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
    # The losers replayed a used token, which revokes its whole family: the winner's new
    # refresh token included, whichever order the requests landed in.
    winner = next(r for r in responses if r.status_code == 200)
    assert node.introspect(winner.json()["refresh_token"])["active"] is False


def test_concurrent_redemptions_of_one_code_have_exactly_one_winner(node, client):
    verifier = generate_token(48)
    query = {"response_type": "code", "client_id": client["clientId"], "redirect_uri": CALLBACK,
             "code_challenge": create_s256_code_challenge(verifier),
             "code_challenge_method": "S256", "username": ADMIN_USERNAME,
             "password": node.admin_password}
    login = node.post("/oauth2/authorize", data=query)
    assert login.status_code == 302, login.text
    code = dict(p.split("=", 1) for p in login.headers["Location"].split("?", 1)[1].split("&"))
    form = {"grant_type": "authorization_code", "code": code["code"], "redirect_uri": CALLBACK,
            "code_verifier": verifier}
    responses = all_at_once(lambda: node.token(client, form))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (ATTEMPTS - 1), [r.text for r in responses]

"""The invoke flow end to end: an API published and deployed through the Publisher REST API,
a developer's application subscribed through the Developer Portal, and calls through the
gateway's own port to a real backend process."""

import time

import pytest
import requests

from devportal_support import PASSWORD
from gateway_support import (backend_fixture, Caller, error_code, gateway, publish_api, publisher,
                             wait_for_status)


echo_backend = backend_fixture("echo")


@pytest.fixture(scope="module")
def api(node, echo_backend):
    return publish_api(node, echo_backend.url + "/base")


@pytest.fixture(scope="module")
def caller(node, api):
    c = Caller(node)
    c.subscribe(api)
    return c


@pytest.fixture(scope="module")
def token(node, api, caller):
    t = caller.token()
    wait_for_status(node, "GET", f"{api['context']}/1.0.0/ready", 200, t)
    return t


def test_a_subscribed_application_reaches_the_backend(node, api, token, echo_backend):
    response = gateway(node, "GET", f"{api['context']}/1.0.0/pets/7?x=1&y=2", token,
                       headers={"X-Custom": "kept"})
    assert response.status_code == 200, response.text
    echo = response.json()
    assert echo["backend"] == "echo"
    # The resource path goes under the endpoint's base path, the query as sent.
    assert echo["path"] == "/base/pets/7"
    assert echo["query"] == "x=1&y=2"
    headers = echo["headers"]
    assert headers["x-custom"] == "kept"
    # The credential stays at the gateway; the backend learns where the call came from.
    assert "authorization" not in headers
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == f"127.0.0.1:{node.gateway_http_port}"
    assert headers["host"] == f"127.0.0.1:{echo_backend.port}"
    # A correlation id is made up, sent to the backend and returned.
    assert headers["activityid"]
    assert response.headers["activityid"] == headers["activityid"]


def test_a_correlation_id_sent_by_the_client_is_propagated(node, api, token):
    response = gateway(node, "GET", f"{api['context']}/1.0.0/x", token,
                       headers={"activityid": "abc-123"})
    assert response.json()["headers"]["activityid"] == "abc-123"
    assert response.headers["activityid"] == "abc-123"


def test_the_default_version_is_routed_without_a_version(node, echo_backend, caller):
    api = publish_api(node, echo_backend.url, isDefaultVersion=True)
    caller.subscribe(api)
    t = caller.token()
    response = wait_for_status(node, "GET", f"{api['context']}/pets", 200, t)
    assert response.json()["path"] == "/pets"
    assert gateway(node, "GET", f"{api['context']}/1.0.0/pets", t).status_code == 200


def test_request_and_response_bodies_pass_both_ways(node, api, token):
    body = b"x" * 100_000
    response = gateway(node, "POST", f"{api['context']}/1.0.0/upload", token, data=body)
    assert response.status_code == 200, response.text
    assert response.json()["body_length"] == len(body)

    def chunks():
        for _ in range(10):
            yield b"y" * 10_000

    response = gateway(node, "PUT", f"{api['context']}/1.0.0/upload", token, data=chunks())
    assert response.status_code == 200, response.text
    echo = response.json()
    assert echo["body_length"] == 100_000
    assert "chunked" in echo["headers"].get("transfer-encoding", "")

    download = gateway(node, "GET", f"{api['context']}/1.0.0/stream/300000", token)
    assert download.status_code == 200
    assert len(download.content) == 300_000


def test_head_is_served_by_the_get_resource_without_a_body(node, api, token):
    response = gateway(node, "HEAD", f"{api['context']}/1.0.0/download/1234", token)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == "1234"
    assert response.content == b""


def test_missing_credentials_are_900902(node, api, token):
    response = gateway(node, "GET", f"{api['context']}/1.0.0/pets")
    assert response.status_code == 401
    assert error_code(response) == 900902
    assert "WWW-Authenticate" in response.headers


def test_invalid_credentials_are_900901(node, api, token):
    for bad in ["not-a-jwt", token[:-4] + "AAAA", "a.b.c"]:
        response = gateway(node, "GET", f"{api['context']}/1.0.0/pets", bad)
        assert response.status_code == 401, bad
        assert error_code(response) == 900901
        assert "WWW-Authenticate" in response.headers


def test_an_application_without_subscription_is_900908(node, api, token):
    stranger = Caller(node)
    response = gateway(node, "GET", f"{api['context']}/1.0.0/pets", stranger.token())
    assert response.status_code == 403
    assert error_code(response) == 900908


def test_no_api_is_404_and_no_resource_is_900906(node, api, token, echo_backend):
    assert gateway(node, "GET", "/no-such-api/1.0.0/x", token).status_code == 404
    limited = publish_api(node, echo_backend.url, operations=[
        {"target": "/pets", "verb": "GET", "authType": "Application & Application User",
         "throttlingPolicy": "Unlimited"}])
    c = Caller(node)
    c.subscribe(limited)
    t = c.token()
    wait_for_status(node, "GET", f"{limited['context']}/1.0.0/pets", 200, t)
    response = gateway(node, "DELETE", f"{limited['context']}/1.0.0/pets", t)
    assert error_code(response) == 900906
    assert response.status_code == 403
    response = gateway(node, "GET", f"{limited['context']}/1.0.0/cats", t)
    assert error_code(response) == 900906


def test_paths_are_normalised_before_matching(node, api, token):
    response = gateway(node, "GET", f"{api['context']}/1.0.0/a/../b//c/./d", token)
    assert response.status_code == 200
    assert response.json()["path"] == "/base/b/c/d"
    # An encoded slash would let a path mean one thing to the gateway and another upstream.
    response = requests.get(node.gateway_url + f"{api['context']}/1.0.0/a%2Fb",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 400
    # Dot segments cannot climb out of the API's context into another API.
    response = gateway(node, "GET", f"{api['context']}/1.0.0/../../other/1.0.0/x", token)
    assert response.status_code == 404


def test_a_revoked_token_is_refused_within_a_second(node, api, caller):
    t = caller.token()
    assert gateway(node, "GET", f"{api['context']}/1.0.0/x", t).status_code == 200
    client_id, secret = caller.credentials()
    revoked = node.request("POST", node.https_url + "/oauth2/revoke", data={"token": t},
                           auth=(client_id, secret))
    assert revoked.status_code == 200
    start = time.monotonic()
    response = wait_for_status(node, "GET", f"{api['context']}/1.0.0/x", 401, t, timeout=1.0)
    assert time.monotonic() - start < 1.0
    assert error_code(response) == 900901


def test_a_blocked_api_is_700700_and_a_retired_one_404(node, echo_backend):
    api = publish_api(node, echo_backend.url)
    c = Caller(node)
    c.subscribe(api)
    t = c.token()
    wait_for_status(node, "GET", f"{api['context']}/1.0.0/x", 200, t)
    assert publisher(node, "POST", "/apis/change-lifecycle",
                     params={"apiId": api["id"], "action": "Block"}).status_code == 200
    response = wait_for_status(node, "GET", f"{api['context']}/1.0.0/x", 503, t)
    assert error_code(response) == 700700
    assert publisher(node, "POST", "/apis/change-lifecycle",
                     params={"apiId": api["id"], "action": "Re-Publish"}).status_code == 200
    wait_for_status(node, "GET", f"{api['context']}/1.0.0/x", 200, t)


def test_a_token_from_each_grant_type_is_accepted(node, api):
    c = Caller(node)
    c.subscribe(api)
    grants = ["client_credentials", "password", "refresh_token"]
    client_id, secret = c.credentials(grants=grants)
    tokens = node.request("POST", node.token_url, auth=(client_id, secret),
                          data={"grant_type": "password", "username": c.developer.username,
                                "password": PASSWORD}).json()
    user_token = tokens["access_token"]
    refreshed = node.request("POST", node.token_url, auth=(client_id, secret),
                             data={"grant_type": "refresh_token",
                                   "refresh_token": tokens["refresh_token"]}).json()
    for t in [c.token(), user_token, refreshed["access_token"]]:
        response = wait_for_status(node, "GET", f"{api['context']}/1.0.0/x", 200, t)
        assert response.status_code == 200


def test_health_and_metrics_on_the_admin_port(node, api, token):
    ready = requests.get(node.gateway_admin_url + "/health/ready", timeout=10)
    assert ready.status_code == 200
    assert requests.get(node.gateway_admin_url + "/health/live", timeout=10).status_code == 200
    metrics = requests.get(node.gateway_admin_url + "/metrics", timeout=10)
    assert metrics.status_code == 200
    assert "portico_snapshot_version" in metrics.text

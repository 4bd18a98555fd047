"""Read-your-writes at the gateway: a subscription or key made through the REST API is
honoured by the very next call, although the gateway's snapshot learns it from an event only a
moment later. On a miss the gateway asks the control plane once per key (coalesced, and
negative-cached for gateway.miss_lookup_cache_seconds) before refusing; the reads are counted
in the gateway's /metrics."""

import time
import uuid

import pytest
import requests

from devportal_support import execute, sql_literal
from gateway_support import (Caller, backend_fixture, concurrently, error_code, gateway,
                             publish_api, wait_for_status)

upstream = backend_fixture("ryw-backend")


@pytest.fixture
def api(node, upstream):
    published = publish_api(node, upstream.url, securityScheme=["oauth2", "api_key"])
    # Deployed and published: the gateway serves it (401 without credentials).
    wait_for_status(node, "GET", published["context"] + "/1.0.0/pets", 401)
    return published


def lookups(node) -> int:
    """Control-plane reads the gateway made for credentials or subscriptions it did not know."""
    text = requests.get(node.gateway_admin_url + "/metrics", timeout=10).text
    total = 0
    for line in text.splitlines():
        if line.startswith("portico_gateway_miss_lookups_total{"):
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def test_subscribe_generate_keys_and_call_at_once(node, api):
    # The README's story, pasted: no sleep between the writes and the call.
    caller = Caller(node)
    caller.subscribe(api)
    token = caller.token()
    response = gateway(node, "GET", api["context"] + "/1.0.0/pets", token)
    assert response.status_code == 200, response.text


def test_api_key_of_a_new_application_works_at_once(node, api):
    caller = Caller(node)
    caller.subscribe(api)
    key = caller.api_key()
    response = gateway(node, "GET", api["context"] + "/1.0.0/pets", headers={"apikey": key})
    assert response.status_code == 200, response.text


def test_subscription_the_snapshot_never_heard_of_is_read_once(node, api):
    caller = Caller(node)
    token = caller.token()
    path = api["context"] + "/1.0.0/pets"
    # Not subscribed yet: refused as the reference does.
    refused = wait_for_status(node, "GET", path, 403, token)
    assert error_code(refused) == 900908
    # Written straight to the database: no event will ever tell the gateway (until its next
    # full resync), so only the read on a miss can.
    now = int(time.time())
    execute(node, ["INSERT INTO subscriptions (id, application_id, api_id, throttling_policy, "
                   "status, created_time, updated_time) VALUES (" +
                   ", ".join(sql_literal(v) for v in [str(uuid.uuid4()),
                                                      caller.app["applicationId"], api["id"],
                                                      "Unlimited", "UNBLOCKED", now, now]) +
                   ")"])
    # The refusal above is negative-cached for a few seconds; the subscription is honoured
    # once that window is over, with no event and no restart.
    response = wait_for_status(node, "GET", path, 200, token, timeout=30)
    assert response.status_code == 200
    # Learned into the live snapshot: later calls need no read.
    before = lookups(node)
    for _ in range(5):
        assert gateway(node, "GET", path, token).status_code == 200
    assert lookups(node) == before


def test_a_flood_of_calls_without_subscription_asks_once(node, api):
    caller = Caller(node)
    token = caller.token()
    path = api["context"] + "/1.0.0/pets"
    # The application and its keys are known to the gateway; the subscription is not.
    refused = wait_for_status(node, "GET", path, 403, token)
    assert error_code(refused) == 900908
    before = lookups(node)
    responses = concurrently(40, lambda: gateway(node, "GET", path, token))
    assert {r.status_code for r in responses} == {403}
    assert {error_code(r) for r in responses} == {900908}
    # Either coalesced onto one read or refused from the negative cache: at most one read
    # for this application and API in the window (the first refusal above may hold it).
    assert lookups(node) - before <= 1


def test_an_unknown_token_is_refused_without_asking(node, api):
    path = api["context"] + "/1.0.0/pets"
    before = lookups(node)
    responses = concurrently(10, lambda: gateway(node, "GET", path, "not-a-token-" +
                                                 uuid.uuid4().hex))
    assert {r.status_code for r in responses} == {401}
    assert {error_code(r) for r in responses} == {900901}
    assert lookups(node) == before

"""Analytics from gateways without a database (docs/analytics.md): such a gateway sends its
per-minute rollups to the control plane, POST /internal/data/v1/analytics/batches with the
internal-API credential, and the control plane's analytics query API counts them with the
calls of its own gateway. Here an all-in-one node receives batches exactly as a separate
gateway sends them: each stored once by (nodeId, batchId), a bad one refused whole, none
without the shared credential or a gateway's own live one; then /api/am/analytics/v1 shows
the calls, by gateway too."""

from __future__ import annotations

import time
import uuid

import pytest

ANALYTICS = "/api/am/analytics/v1"
BATCHES = "/internal/data/v1/analytics/batches"
INTERNAL = ("gateway", "internal-" + uuid.uuid4().hex)
BUCKETS = 25  # the latency histogram's buckets (src/analytics/rollup.h)


@pytest.fixture(scope="module")
def cp(module_launcher):
    return module_launcher.new(sections={"internal_api": {"username": INTERNAL[0],
                                                          "password": INTERNAL[1]}})


def rollup(api: str, calls: int, *, status_class: str = "2xx", errors: int = 0,
           latency_ms: int = 10) -> dict:
    """One rollup as a gateway writes it: `calls` calls to `api` in the current minute, each
    taking `latency_ms` (10 ms: the 6th bucket, (8, 12])."""
    histogram = [0] * BUCKETS
    histogram[5] = calls
    minute = int(time.time()) // 60 * 60
    return {"minute": minute, "apiId": "id-" + api, "apiName": api, "apiVersion": "1.0.0",
            "apiMethod": "GET", "apiResourceTemplate": "/items", "applicationId": "app-1",
            "applicationName": "App One", "applicationOwner": "sam",
            "statusClass": status_class, "requests": calls, "errors": errors, "throttled": 0,
            "latencySumMs": calls * latency_ms, "requestBytes": calls * 100,
            "responseBytes": calls * 1000, "histogram": histogram}


def batch(node_id: str, *rollups: dict, batch_id: str | None = None) -> dict:
    return {"batchId": batch_id or f"{int(time.time() * 1000)}-000001-{uuid.uuid4().hex[:8]}",
            "nodeId": node_id, "rollups": list(rollups)}


def send(node, body, auth=INTERNAL):
    return node.post(BATCHES, json=body, auth=auth)


def by_node(node, **params) -> dict[str, int]:
    response = node.get(f"{ANALYTICS}/requests", auth=node.admin_auth,
                        params={"groupBy": "node", **params})
    assert response.status_code == 200, response.text
    return {row["nodeId"]: row["requests"] for row in response.json()["list"]}


def api_requests(node, api: str) -> int:
    response = node.get(f"{ANALYTICS}/requests", auth=node.admin_auth,
                        params={"groupBy": "api", "apiId": "id-" + api})
    assert response.status_code == 200, response.text
    return sum(row["requests"] for row in response.json()["list"])


def test_a_gateways_batch_shows_in_the_query_api(cp):
    api = "Shop" + uuid.uuid4().hex[:6]
    response = send(cp, batch("gw-east", rollup(api, 7), rollup(api, 2, status_class="5xx",
                                                                   errors=2)))
    assert response.status_code == 200, response.text
    assert response.json()["duplicate"] is False
    assert api_requests(cp, api) == 9
    assert by_node(cp, apiId="id-" + api) == {"gw-east": 9}
    errors = cp.get(f"{ANALYTICS}/errors", auth=cp.admin_auth,
                    params={"groupBy": "status", "apiId": "id-" + api}).json()["list"]
    assert {row["statusClass"]: row["errors"] for row in errors} == {"2xx": 0, "5xx": 2}
    latency = cp.get(f"{ANALYTICS}/latency", auth=cp.admin_auth,
                     params={"apiId": "id-" + api}).json()["list"]
    assert latency[0]["averageMs"] == 10


def test_several_gateways_add_up_and_stay_apart(cp):
    api = "Fleet" + uuid.uuid4().hex[:6]
    for node_id, calls in (("gw-1", 3), ("gw-2", 5), ("gw-3", 11)):
        assert send(cp, batch(node_id, rollup(api, calls))).status_code == 200
    assert api_requests(cp, api) == 19
    assert by_node(cp, apiId="id-" + api) == {"gw-1": 3, "gw-2": 5, "gw-3": 11}
    assert by_node(cp, apiId="id-" + api, nodeId="gw-2") == {"gw-2": 5}


def test_a_batch_sent_again_is_counted_once(cp):
    api = "Again" + uuid.uuid4().hex[:6]
    body = batch("gw-west", rollup(api, 4))
    first, second = send(cp, body), send(cp, body)
    assert first.status_code == 200 and second.status_code == 200, (first.text, second.text)
    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    assert api_requests(cp, api) == 4
    # Batch ids are per gateway: another gateway's batch with that id is its own.
    assert send(cp, batch("gw-north", rollup(api, 1), batch_id=body["batchId"])).json() == {
        "batchId": body["batchId"], "duplicate": False}
    assert api_requests(cp, api) == 5


def test_a_bad_batch_is_refused_whole_and_stores_nothing(cp):
    api = "Bad" + uuid.uuid4().hex[:6]
    good = rollup(api, 3)
    bad = rollup(api, 2)
    bad["histogram"][5] = 1  # the buckets no longer add up to the 2 requests
    body = batch("gw-south", good, bad)
    response = send(cp, body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == 400 and error["message"] == "Bad Request"
    assert "rollups[1]" in error["description"] and "histogram" in error["description"]
    for spoiled in ({**body, "batchId": "../escape"}, {**body, "nodeId": ""},
                    {**body, "rollups": []}, {"batchId": "x"}):
        assert send(cp, spoiled).status_code == 400, spoiled
    assert cp.post(BATCHES, data=b"{not json", auth=INTERNAL,
                   headers={"Content-Type": "application/json"}).status_code == 400
    assert api_requests(cp, api) == 0
    # The refused batch's id was not taken: corrected, it is stored.
    fixed = send(cp, {**body, "rollups": [good]})
    assert fixed.status_code == 200 and fixed.json()["duplicate"] is False, fixed.text
    assert api_requests(cp, api) == 3


def test_only_the_internal_credential_may_send_batches(cp):
    api = "Creds" + uuid.uuid4().hex[:6]
    body = batch("gw-x", rollup(api, 2))
    for auth in (None, (INTERNAL[0], "wrong"), cp.admin_auth):
        response = send(cp, body, auth=auth)
        assert response.status_code == 401, (auth, response.text)
        assert response.json()["code"] == 900901
    assert api_requests(cp, api) == 0
    assert send(cp, body).status_code == 200
    assert api_requests(cp, api) == 2


def test_a_gateway_sends_batches_with_its_own_credential_until_it_is_revoked(cp):
    created = cp.post("/api/am/admin/v4/gateway-credentials", auth=cp.admin_auth,
                      json={"name": "gw-analytics-1", "environment": "Default"})
    assert created.status_code == 201, created.text
    credential = created.json()
    own = (credential["username"], credential["password"])
    api = "Own" + uuid.uuid4().hex[:6]
    accepted = send(cp, batch("gw-own", rollup(api, 3)), auth=own)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["duplicate"] is False
    assert api_requests(cp, api) == 3
    revoked = cp.request("DELETE", cp.https_url +
                         f"/api/am/admin/v4/gateway-credentials/{credential['id']}",
                         auth=cp.admin_auth)
    assert revoked.status_code == 200, revoked.text
    refused = send(cp, batch("gw-own", rollup(api, 5)), auth=own)
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == 900901
    assert api_requests(cp, api) == 3

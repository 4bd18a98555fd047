"""Pattern 3 (two control planes, a key manager, three gateways, PostgreSQL, Redis, nginx in
front) under the failures that hurt API managers: a gateway killed or stopped under load,
the control planes and their database down, Redis down, the key manager down, a control
plane on a wiped database. One cluster serves the module; each test puts back what it
stopped, and the wiped database comes last.

Propagation is awaited with generous timeouts (the gateways' periodic resync is 300 s, so
anything that arrives within them came through the event log or a read on a miss); how fast
it really is, bench/cluster measures.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pytest
import requests

from cluster_support import Cluster, local_cluster, start_cluster
from gateway_support import Backend, Caller, error_code, publish_api, wait_for
from portal_support import portal_sign_in
from portico_node import psql
from snapshot_file_support import read_snapshot

PATTERN = "3-distributed"
GATEWAYS = ["gw1", "gw2", "gw3"]
PROPAGATION_SECONDS = 15


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    directory, endpoints = start_cluster(tmp_path_factory, PATTERN)
    yield Cluster(directory, endpoints)
    # PORTICO_KEEP_CLUSTER=1 keeps the run folder (logs, databases) to look at afterwards.
    local_cluster.down(directory, purge=not os.environ.get("PORTICO_KEEP_CLUSTER"))


@pytest.fixture(scope="module")
def backend():
    b = Backend("faults")
    yield b
    b.close()


@pytest.fixture(scope="module")
def story(cluster, backend):
    """An API called with a JWT and with an API key, known to every gateway."""
    front = cluster.front
    api = publish_api(front, backend.url, securityScheme=["oauth2", "api_key"])
    caller = Caller(front)
    caller.subscribe(api)
    token = caller.token()
    api_key = caller.api_key()
    path = f"{api['context']}/1.0.0/items"
    for name in GATEWAYS:
        answered(cluster.gateway_url(name), path, {"Authorization": f"Bearer {token}"}, 200)
        answered(cluster.gateway_url(name), path, {"apikey": api_key}, 200)
    return {"api": api, "caller": caller, "token": token, "api_key": api_key, "path": path}


def call(base: str, path: str, headers: dict, session: requests.Session | None = None):
    return (session or requests).get(base + path, headers=headers, timeout=10)


def answered(base: str, path: str, headers: dict, status: int,
             timeout: float = PROPAGATION_SECONDS) -> requests.Response:
    def attempt():
        try:
            response = call(base, path, headers)
        except requests.RequestException:
            return None
        return [response] if response.status_code == status else None
    return wait_for(attempt, timeout=timeout, interval=0.05)[0]


class Load:
    """Threads calling through nginx until stopped; every answer and error is kept."""

    def __init__(self, base: str, path: str, headers_list: list[dict], threads: int = 4):
        self.base, self.path, self.headers_list = base, path, headers_list
        self.statuses: list[int] = []
        self.failures: list[str] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]

    def run(self, index: int) -> None:
        session = requests.Session()
        headers = self.headers_list[index % len(self.headers_list)]
        while not self.stopping.is_set():
            try:
                response = call(self.base, self.path, headers, session)
                self.statuses.append(response.status_code)
                if response.status_code != 200:
                    self.failures.append(f"{response.status_code} {response.text[:200]}")
            except requests.RequestException as e:
                self.failures.append(repr(e))

    def __enter__(self) -> "Load":
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join()


def bearer(story) -> dict:
    return {"Authorization": f"Bearer {story['token']}"}


def both_credentials(story) -> list[dict]:
    return [bearer(story), {"apikey": story["api_key"]}]


def test_a_gateway_stopped_with_sigterm_under_load_fails_no_request(cluster, story):
    with Load(cluster.endpoints["PORTICO_GW_HTTP"], story["path"], both_credentials(story)) as load:
        time.sleep(1)
        cluster.stop("gw2", signal.SIGTERM)
        time.sleep(2)
        cluster.start("gw2")
        time.sleep(1)
    assert len(load.statuses) > 100
    assert load.failures == []


def test_a_gateway_killed_under_load_fails_at_most_the_requests_in_flight(cluster, story):
    threads = 4
    with Load(cluster.endpoints["PORTICO_GW_HTTP"], story["path"], both_credentials(story),
              threads) as load:
        time.sleep(1)
        cluster.stop("gw3", signal.SIGKILL)
        time.sleep(2)
        cluster.start("gw3")
        time.sleep(1)
    assert len(load.statuses) > 100
    assert len(load.failures) <= threads, load.failures


def test_with_redis_down_writes_succeed_gateways_serve_and_changes_arrive_once_it_returns(
        cluster, story, backend):
    front = cluster.front
    api = publish_api(front, backend.url)
    caller = Caller(front)
    subscription = caller.subscribe(api)
    token = caller.token()
    path = f"{api['context']}/1.0.0/items"
    for name in GATEWAYS:
        answered(cluster.gateway_url(name), path, {"Authorization": f"Bearer {token}"}, 200)
    cluster.stop("redis", signal.SIGKILL)
    try:
        # A write that only an event can bring to a gateway (a blocked subscription is no
        # miss that a gateway would ask the control plane about).
        blocked = front.request(
            "POST", front.https_url + "/api/am/publisher/v4/subscriptions/block-subscription",
            params={"subscriptionId": subscription["subscriptionId"], "blockState": "BLOCKED"},
            auth=front.admin_auth)
        assert blocked.status_code == 200, blocked.text
        with Load(cluster.endpoints["PORTICO_GW_HTTP"], story["path"], [bearer(story)]) as load:
            time.sleep(1)
        assert load.statuses and load.failures == []
    finally:
        cluster.start("redis")
    for name in GATEWAYS:
        refused = answered(cluster.gateway_url(name), path, {"Authorization": f"Bearer {token}"},
                           401)
        assert error_code(refused) == 900907


def test_with_the_key_manager_down_jwt_calls_work_and_its_revocations_reach_every_gateway(
        cluster, story):
    cluster.stop("km1")
    try:
        with Load(cluster.endpoints["PORTICO_GW_HTTP"], story["path"], [bearer(story)]) as load:
            time.sleep(1)
        assert load.statuses and load.failures == []
    finally:
        cluster.start("km1")
    caller = story["caller"]
    token = caller.token()
    headers = {"Authorization": f"Bearer {token}"}
    for name in GATEWAYS:
        answered(cluster.gateway_url(name), story["path"], headers, 200)
    client_id, secret = caller.credentials()
    km = cluster.key_manager_url()
    revoked = cluster.front.request("POST", km + "/oauth2/revoke", data={"token": token},
                                    auth=(client_id, secret))
    assert revoked.status_code == 200, revoked.text
    for name in GATEWAYS:
        refused = answered(cluster.gateway_url(name), story["path"], headers, 401)
        assert error_code(refused) == 900901


def test_with_the_control_planes_and_database_down_gateways_serve_from_memory_and_file(
        cluster, story, backend):
    # gw1's snapshot file holds the story's application (a full pull follows a patch within
    # gateway.snapshot_write_seconds).
    snapshot_file = cluster.directory / "nodes" / "gw1" / "data" / "gateway-snapshot-Default.json"
    application_id = story["caller"].app["applicationId"]
    wait_for(lambda: snapshot_file.exists() and any(
        app["id"] == application_id for app in read_snapshot(snapshot_file)[1]["applications"]),
             timeout=PROPAGATION_SECONDS, interval=0.2)
    for name in ("cp1", "cp2", "postgresql"):
        cluster.stop(name)
    try:
        with Load(cluster.endpoints["PORTICO_GW_HTTP"], story["path"],
                  both_credentials(story)) as load:
            time.sleep(1)
            # A gateway restarted meanwhile has only its snapshot file to go on.
            cluster.stop("gw1")
            cluster.start("gw1")
            time.sleep(1)
        assert len(load.statuses) > 50 and load.failures == []
        for headers in both_credentials(story):
            assert call(cluster.gateway_url("gw1"), story["path"], headers).status_code == 200
    finally:
        for name in ("postgresql", "cp1", "cp2"):
            cluster.start(name)
        cluster.wait_for_front()
    # After the recovery, a change reaches every gateway, with no restart.
    front = cluster.front
    api = publish_api(front, backend.url)
    caller = Caller(front)
    caller.subscribe(api)
    token = caller.token()
    for name in GATEWAYS:
        answered(cluster.gateway_url(name), f"{api['context']}/1.0.0/items",
                 {"Authorization": f"Bearer {token}"}, 200)


def test_three_gateways_analytics_add_up_to_the_calls_made(cluster, story, backend):
    front = cluster.front
    api = publish_api(front, backend.url)
    caller = Caller(front)
    caller.subscribe(api)
    headers = {"Authorization": f"Bearer {caller.token()}"}
    path = f"{api['context']}/1.0.0/items"
    for name in GATEWAYS:
        answered(cluster.gateway_url(name), path, headers, 200)
    made = 3  # the three calls above
    for i in range(60):
        assert call(cluster.gateway_url(GATEWAYS[i % 3]), path, headers).status_code == 200
        made += 1

    def counted():
        response = front.request("GET", front.https_url + "/api/am/analytics/v1/requests",
                                 params={"groupBy": "api"}, auth=front.admin_auth)
        assert response.status_code == 200, response.text
        rows = [r for r in response.json()["list"] if r["apiId"] == api["id"]]
        return rows and rows[0]["requests"] == made
    wait_for(counted, timeout=30, interval=0.5)


def test_a_control_plane_on_a_wiped_database_does_not_empty_the_gateways(cluster, story):
    """Last: it leaves the cluster on a new, empty database."""
    for name in ("cp1", "cp2", "km1"):
        cluster.stop(name)
    psql(cluster.endpoints["PORTICO_POSTGRESQL"],
         "DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    for name in ("cp1", "cp2", "km1"):
        cluster.start(name)
    cluster.wait_for_front()
    # The new control plane's first events make every gateway pull: it is refused.
    front = cluster.front
    created = front.request("POST", front.https_url + "/api/am/admin/v4/environments",
                            json={"name": "after-wipe-" + uuid.uuid4().hex[:6],
                                  "displayName": "after wipe", "vhosts": [{"host": "x.test"}]},
                            auth=front.admin_auth)
    assert created.status_code == 201, created.text

    def refused_everywhere():
        for name in GATEWAYS:
            metrics = requests.get(cluster.admin_url(name) + "/metrics", timeout=5).text
            if not any(line.startswith("portico_gateway_snapshot_refused_total")
                       and not line.rstrip().endswith(" 0") for line in metrics.splitlines()):
                return False
        return True
    wait_for(refused_everywhere, timeout=PROPAGATION_SECONDS, interval=0.2)
    for name in GATEWAYS:
        for headers in both_credentials(story):
            assert call(cluster.gateway_url(name), story["path"], headers).status_code == 200


def test_the_portals_sign_in_through_the_nginx_in_front_of_the_control_planes(cluster):
    # Not a fault: the portals opened at the cluster's public address (server.public_url) sign in
    # there, whichever control plane nginx picks for each step.
    front = cluster.front
    page = front.request("GET", front.https_url + "/publisher/")
    assert page.status_code in (200, 404), page.text  # 404: portals not built in this tree
    token = portal_sign_in(front, front.https_url, "publisher", "apim:api_view",
                           *front.admin_auth)
    assert token.status_code == 200, token.text
    apis = front.request("GET", front.https_url + "/api/am/publisher/v4/apis",
                         headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert apis.status_code == 200, apis.text

"""Two nodes on one PostgreSQL database share their events through the cluster's log on
Redis: what is written through one node reaches the other node's gateway without waiting
for its periodic resync (300 s), also when Redis was down while it was written.

The nodes are all-in-one nodes (control plane and gateway in one process) with
`[redis] url` set: each node's gateway pulls its configuration from its own control plane,
so only an event tells node B that node A changed something.
"""

from __future__ import annotations

import time

import pytest

import portico_node
from conftest import POSTGRES_URL
from gateway_support import Backend, Caller, error_code, gateway, publish_api, wait_for_status

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="PORTICO_TEST_POSTGRES_URL is not set (run under scripts/with-postgres)")

ISSUER = "https://portico.cluster.test/oauth2/token"
# Long enough that no resync happens during a test: only events can explain a change.
PROPAGATION_SECONDS = 10


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, redis):
    """Nodes A and B on one database and one Redis."""
    from conftest import NodeLauncher
    launcher = NodeLauncher(tmp_path_factory, "postgresql")
    database_url = portico_node.create_postgres_database(POSTGRES_URL)
    sections = {"redis": {"url": redis.url}, "oauth": {"issuer": ISSUER}}
    try:
        a = launcher.new(database_url=database_url, sections=sections)
        b = launcher.new(database_url=database_url, sections=sections)
        yield a, b
    finally:
        launcher.close()
        portico_node.drop_postgres_database(POSTGRES_URL, database_url)


@pytest.fixture(scope="module")
def backend():
    b = Backend("cluster")
    yield b
    b.close()


def path_of(api: dict) -> str:
    return f"{api['context']}/1.0.0/items"


def test_a_subscription_made_on_one_node_is_honoured_by_the_other_nodes_gateway(cluster, backend):
    a, b = cluster
    api = publish_api(a, backend.url)
    caller = Caller(a)
    caller.subscribe(api)
    token = caller.token()
    assert wait_for_status(a, "GET", path_of(api), 200, token).status_code == 200
    response = wait_for_status(b, "GET", path_of(api), 200, token, timeout=PROPAGATION_SECONDS)
    assert response.json()["path"].endswith("/items")


def test_a_revocation_on_one_node_reaches_the_other_nodes_gateway(cluster, backend):
    a, b = cluster
    api = publish_api(a, backend.url)
    caller = Caller(a)
    caller.subscribe(api)
    token = caller.token()
    wait_for_status(b, "GET", path_of(api), 200, token, timeout=PROPAGATION_SECONDS)
    client_id, secret = caller.credentials()
    revoked = a.request("POST", a.https_url + "/oauth2/revoke", data={"token": token},
                        auth=(client_id, secret))
    assert revoked.status_code == 200
    refused = wait_for_status(b, "GET", path_of(api), 401, token, timeout=PROPAGATION_SECONDS)
    assert error_code(refused) == 900901


def test_changes_made_while_redis_is_down_reach_the_other_node_once_it_returns(
        cluster, backend, redis):
    a, b = cluster
    api = publish_api(a, backend.url)
    caller = Caller(a)
    token = caller.token()
    subscription = caller.subscribe(api)
    # B serves the subscription, and its last pull, which reads the shared database, is over:
    # only an event can tell it about what comes next. (A new subscription or key would not
    # do: a gateway asks the control plane about those on a miss. A block is a change to
    # something it already knows.)
    wait_for_status(b, "GET", path_of(api), 200, token, timeout=PROPAGATION_SECONDS)
    time.sleep(1)  # several times the gateway's debounce (100 ms) and a pull
    redis.stop()
    try:
        # The write succeeds at once: its event waits in the cluster's outbox.
        blocked = a.request("POST", a.https_url + "/api/am/publisher/v4/subscriptions/"
                            "block-subscription", auth=a.admin_auth,
                            params={"subscriptionId": subscription["subscriptionId"],
                                    "blockState": "BLOCKED"})
        assert blocked.status_code == 200, blocked.text
        assert error_code(wait_for_status(a, "GET", path_of(api), 401, token)) == 900907
        assert gateway(b, "GET", path_of(api), token).status_code == 200
    finally:
        redis.start()  # empty: a new epoch, every consumer reloads
    refused = wait_for_status(b, "GET", path_of(api), 401, token, timeout=PROPAGATION_SECONDS)
    assert error_code(refused) == 900907
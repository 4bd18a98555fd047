"""Pattern 5: gateways in the cloud. One control plane with PostgreSQL and Redis, two gateways
of environment "cloud" that know only the control plane's HTTPS URL (through nginx): no
database, no Redis; they follow the control plane's event stream. One cluster serves the
module: with --netns where this machine allows it (each node in a network namespace, the
gateways' egress limited by nftables to that URL and the backends), else on loopback.

Propagation through the stream is awaited for at most a second where the issue asks for it (a
revoked token); after a cut link, for the gateways' reconnection backoff (at most 10 s) on top.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import tomllib
from pathlib import Path

import pytest
import requests

from cluster_support import DEPLOY, ClusterEntry, local_cluster, start_cluster
from gateway_support import Backend, Caller, deploy, error_code, lifecycle, publish_api, wait_for
from portico_node import binary_path

PATTERN = "5-cloud-gateway"
GATEWAYS = ["gw1", "gw2"]
RECONNECT_SECONDS = 30
NETNS_UNAVAILABLE = local_cluster.netns_unavailable_reason()


class Cluster:
    def __init__(self, directory, endpoints: dict[str, str]):
        self.directory = directory
        self.endpoints = endpoints
        self.front = ClusterEntry(endpoints)

    @property
    def in_namespaces(self) -> bool:
        return bool(self.endpoints.get("PORTICO_NODE_gw1_NETNS"))

    def host(self, name: str) -> str:
        return self.endpoints[f"PORTICO_NODE_{name}_HOST"]

    def gateway_url(self, name: str) -> str:
        return f"http://{self.host(name)}:{self.endpoints[f'PORTICO_NODE_{name}_GATEWAY_HTTP']}"

    def control_plane_url(self) -> str:
        """cp1 itself, not the nginx in front of it that the gateways go through."""
        return f"https://{self.host('cp1')}:{self.endpoints['PORTICO_NODE_cp1_HTTPS']}"

    def cut_link(self) -> None:
        """The gateways lose their way to the control plane: a firewall rule in their
        namespaces, or on loopback the nginx they go through stopped."""
        if self.in_namespaces:
            for name in GATEWAYS:
                local_cluster.cut_link(self.directory, name)
        else:
            self.stop("nginx")

    def restore_link(self) -> None:
        if self.in_namespaces:
            for name in GATEWAYS:
                local_cluster.restore_link(self.directory, name)
        else:
            self.start("nginx")

    def stop(self, name: str) -> None:
        self.endpoints = local_cluster.stop_node(self.directory, name)

    def start(self, name: str) -> None:
        self.endpoints = local_cluster.start_node(self.directory, name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    directory, endpoints = start_cluster(tmp_path_factory, PATTERN, netns=not NETNS_UNAVAILABLE)
    yield Cluster(directory, endpoints)
    local_cluster.down(directory, purge=not os.environ.get("PORTICO_KEEP_CLUSTER"))


@pytest.fixture(scope="module")
def backend(cluster):
    b = Backend("cloud", host=cluster.endpoints["PORTICO_OUTSIDE_HOST"])
    yield b
    b.close()


@pytest.fixture(scope="module")
def story(cluster, backend):
    """An API deployed to the cloud environment, a subscribed application and its token."""
    front = cluster.front
    api = publish_api(front, backend.url, publish=False)
    deploy(front, api["id"], "cloud")
    lifecycle(front, api["id"], "Publish")
    caller = Caller(front)
    caller.subscribe(api)
    return {"api": api, "caller": caller, "path": f"{api['context']}/1.0.0/items"}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def answered(base: str, path: str, headers: dict, status: int, timeout: float,
             **kwargs) -> requests.Response:
    def attempt():
        try:
            response = requests.get(base + path, headers=headers, timeout=10, **kwargs)
        except requests.RequestException:
            return None
        return [response] if response.status_code == status else None
    return wait_for(attempt, timeout=timeout, interval=0.05)[0]


def revoke(cluster: Cluster, caller: Caller, token: str, base: str | None = None) -> None:
    client_id, secret = caller.credentials()
    revoked = cluster.front.request("POST", (base or cluster.front.https_url) + "/oauth2/revoke",
                                    data={"token": token}, auth=(client_id, secret))
    assert revoked.status_code == 200, revoked.text


def test_cloud_gateways_have_neither_database_nor_redis(cluster):
    for name in GATEWAYS:
        config = tomllib.loads(
            (cluster.directory / "nodes" / name / "portico.toml").read_text())
        assert "redis" not in config and "database" not in config
        assert config["events"]["transport"] == "sse"
        assert config["gateway"]["environment"] == "cloud"
    assert cluster.endpoints["PORTICO_GW_CLOUD"] == cluster.endpoints["PORTICO_GW"]
    environments = cluster.front.get("/api/am/admin/v4/environments",
                                     auth=cluster.front.admin_auth)
    assert "cloud" in [e["name"] for e in environments.json()["list"]]


def test_cloud_gateways_say_in_their_metrics_that_they_count_quotas_per_gateway(cluster):
    # They reach no traffic manager (only the control plane's HTTPS URL): their limits are
    # their own, and their metrics say so.
    for name in GATEWAYS:
        url = f"http://127.0.0.1:{cluster.endpoints[f'PORTICO_NODE_{name}_ADMIN']}/metrics"
        command = ["curl", "-sS", "--max-time", "5", url]
        if cluster.in_namespaces:  # the admin port listens on the namespace's loopback
            command = ["ip", "netns", "exec", cluster.endpoints[f"PORTICO_NODE_{name}_NETNS"],
                       *command]
        metrics = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        assert re.search(r"^portico_gateway_throttle_cluster_wide(\{[^}]*\})? 0$", metrics,
                         re.M), metrics[-2000:]


def test_an_api_published_to_the_cloud_answers_on_every_cloud_gateway(cluster, story):
    token = story["caller"].token()
    for name in GATEWAYS:
        answered(cluster.gateway_url(name), story["path"], bearer(token), 200, timeout=15)
    # And through the nginx in front of them, over HTTPS.
    response = answered(cluster.endpoints["PORTICO_GW_CLOUD"], story["path"], bearer(token), 200,
                        timeout=15, verify=cluster.endpoints["PORTICO_CA"])
    assert response.status_code == 200


def test_a_revoked_token_is_refused_within_a_second_on_every_cloud_gateway(cluster, story):
    caller = story["caller"]
    token = caller.token()
    for name in GATEWAYS:
        answered(cluster.gateway_url(name), story["path"], bearer(token), 200, timeout=15)
    revoke(cluster, caller, token)
    for name in GATEWAYS:
        refused = answered(cluster.gateway_url(name), story["path"], bearer(token), 401,
                           timeout=1.0)
        assert error_code(refused) == 900901


def test_with_the_link_cut_gateways_serve_and_catch_up_once_it_is_back(cluster, story):
    caller = story["caller"]
    kept, revoked_meanwhile = caller.token(), caller.token()
    for name in GATEWAYS:
        answered(cluster.gateway_url(name), story["path"], bearer(revoked_meanwhile), 200,
                 timeout=15)
    cluster.cut_link()  # the gateways' only way to the control plane
    try:
        for name in GATEWAYS:
            answered(cluster.gateway_url(name), story["path"], bearer(kept), 200, timeout=15)
        # A change the gateways cannot hear of yet: made on the control plane itself.
        revoke(cluster, caller, revoked_meanwhile, base=cluster.control_plane_url())
        for name in GATEWAYS:
            still = requests.get(cluster.gateway_url(name) + story["path"],
                                 headers=bearer(revoked_meanwhile), timeout=10)
            assert still.status_code == 200
    finally:
        cluster.restore_link()
    for name in GATEWAYS:
        refused = answered(cluster.gateway_url(name), story["path"], bearer(revoked_meanwhile),
                           401, timeout=RECONNECT_SECONDS)
        assert error_code(refused) == 900901
        answered(cluster.gateway_url(name), story["path"], bearer(kept), 200, timeout=15)


def test_the_event_stream_refuses_a_caller_without_the_gateway_credential(cluster):
    response = cluster.front.request("GET", cluster.control_plane_url() +
                                     "/internal/data/v1/events", timeout=10)
    assert response.status_code == 401
    assert response.json()["code"] == 900901


def test_the_event_stream_serves_server_sent_events_from_a_position(cluster):
    credential = tuple(cluster.endpoints["PORTICO_INTERNAL_API"].split(":", 1))
    with requests.get(cluster.front.https_url + "/internal/data/v1/events", auth=credential,
                      stream=True, timeout=10, verify=cluster.endpoints["PORTICO_CA"]) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/event-stream"
        lines = response.iter_lines(decode_unicode=True)
        first = [next(lines), next(lines)]
    # From no position: a reset to the log's position first.
    assert first[0].startswith("id: ") and first[1] == "event: reset"
    bad = cluster.front.request("GET", cluster.front.https_url + "/internal/data/v1/events",
                                params={"after": "no-sequence"}, auth=credential, timeout=10)
    assert bad.status_code == 400


def set_keys(config: "os.PathLike", section: str, keys: dict[str, int]) -> None:
    """Sets `keys` at the top of `section` of a node's portico.toml (appended when absent)."""
    lines = [f"{name} = {value}" for name, value in keys.items()]
    text = open(config).read().splitlines()
    header = f"[{section}]"
    if header in text:
        at = text.index(header) + 1
        text[at:at] = lines
    else:
        text += ["", header, *lines]
    with open(config, "w") as out:
        out.write("\n".join(text) + "\n")


def test_the_event_stream_stays_open_through_nginx_past_the_read_timeout(cluster):
    """The control plane's read timeout bounds receiving a request, not how long its event
    stream lasts: through nginx, heartbeats keep coming well past it on one connection.
    It restarts cp1 with a 2 s read timeout and 1 s heartbeats; later tests do not mind."""
    cluster.stop("cp1")
    config = cluster.directory / "nodes" / "cp1" / "portico.toml"
    set_keys(config, "server", {"read_timeout_seconds": 2})
    set_keys(config, "events", {"heartbeat_seconds": 1})
    cluster.start("cp1")
    credential = tuple(cluster.endpoints["PORTICO_INTERNAL_API"].split(":", 1))
    heartbeats = 0
    with requests.get(cluster.front.https_url + "/internal/data/v1/events", auth=credential,
                      stream=True, timeout=10, verify=cluster.endpoints["PORTICO_CA"]) as response:
        assert response.status_code == 200
        try:
            for line in response.iter_lines(decode_unicode=True):
                heartbeats += line == ": keep-alive"
                if heartbeats == 6:
                    break
        except requests.exceptions.ChunkedEncodingError as broken:
            pytest.fail(f"the stream broke after {heartbeats} heartbeats: {broken}")
    assert heartbeats == 6


def test_a_revoked_gateway_credential_stops_its_stream_and_its_pulls(cluster):
    front = cluster.front
    created = front.post("/api/am/admin/v4/gateway-credentials", auth=front.admin_auth,
                         json={"name": "gw-cloud-3", "environment": "cloud"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert "password" in body and body["environment"] == "cloud"
    credential = (body["username"], body["password"])
    listed = front.get("/api/am/admin/v4/gateway-credentials", auth=front.admin_auth).json()
    assert body["id"] in [c["id"] for c in listed["list"]]
    assert all("password" not in c for c in listed["list"])
    pull = front.get("/internal/data/v1/runtime-artifacts", params={"environment": "cloud"},
                     auth=credential)
    assert pull.status_code == 200, pull.text
    other = front.get("/internal/data/v1/runtime-artifacts", params={"environment": "Default"},
                      auth=credential)
    assert other.status_code == 403
    with requests.get(front.https_url + "/internal/data/v1/events", auth=credential, stream=True,
                      timeout=10, verify=cluster.endpoints["PORTICO_CA"]) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines(decode_unicode=True)
        assert next(lines).startswith("id: ") and next(lines) == "event: reset"
        revoked = front.request("DELETE", front.https_url +
                                f"/api/am/admin/v4/gateway-credentials/{body['id']}",
                                auth=front.admin_auth)
        assert revoked.status_code == 200, revoked.text
        rest = list(lines)  # ends: the control plane closed the stream
    assert not any("gateway_credential.revoked" in line for line in rest)
    for attempt in (
            front.get("/internal/data/v1/runtime-artifacts", params={"environment": "cloud"},
                      auth=credential),
            front.get("/internal/data/v1/events", auth=credential)):
        assert attempt.status_code == 401
        assert attempt.json()["code"] == 900901


PROBE = """
import socket, sys
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
        print("open")
    except ConnectionRefusedError:
        print("refused")
    except OSError:
        print("unreachable")
"""


def reach_from(cluster: Cluster, name: str, *targets: str) -> list[str]:
    """What TCP connections from inside node `name`'s namespace to each target (a
    PORTICO_NODE_ name: its host and port) give: open, refused or unreachable."""
    endpoints = cluster.endpoints

    def address(target: str) -> str:
        port = endpoints.get(f"PORTICO_NODE_{target}_PORT") or \
            endpoints[f"PORTICO_NODE_{target}_HTTPS"]
        return f"{endpoints[f'PORTICO_NODE_{target}_HOST']}:{port}"

    done = local_cluster.run_in_node(cluster.directory, name,
                                     ["/usr/bin/python3", "-c", PROBE, *map(address, targets)])
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.skipif(bool(NETNS_UNAVAILABLE), reason=NETNS_UNAVAILABLE or "")
def test_a_cloud_gateway_reaches_the_control_planes_https_url_and_nothing_else(cluster, story):
    assert cluster.in_namespaces
    for name in GATEWAYS:
        # nginx's listener in front of the control plane; not Redis, not PostgreSQL, not the
        # control plane itself past nginx.
        assert reach_from(cluster, name, "nginx", "redis", "postgresql", "cp1") == \
            ["open", "refused", "refused", "refused"]
    # The control plane itself reaches its database and Redis.
    assert reach_from(cluster, "cp1", "redis", "postgresql") == ["open", "open"]
    # While nginx and the tests still reach the gateways: the API answers on each.
    token = story["caller"].token()
    for name in GATEWAYS:
        answered(cluster.gateway_url(name), story["path"], bearer(token), 200, timeout=15)
    response = answered(cluster.endpoints["PORTICO_GW_CLOUD"], story["path"], bearer(token), 200,
                        timeout=15, verify=cluster.endpoints["PORTICO_CA"])
    assert response.status_code == 200
    # At addresses of the run's bridge, not on loopback.
    for name in ["cp1", *GATEWAYS]:
        assert not cluster.host(name).startswith("127.")


def test_netns_without_root_fails_with_the_reason():
    """--netns needs root: as anyone else, up fails at once, says so and makes nothing."""
    with tempfile.TemporaryDirectory(prefix="portico-netns-") as parent:
        folder = Path(parent) / "cluster"
        command = [str(DEPLOY / "local-cluster"), "up", PATTERN, "--netns", "--dir",
                   str(folder), "--binary", str(binary_path())]
        if os.geteuid() == 0:
            os.chmod(parent, 0o777)
            command = ["runuser", "-u", "nobody", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith("local-cluster: --netns needs root"), done.stderr
        assert not folder.exists()

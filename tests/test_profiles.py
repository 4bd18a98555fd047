"""The distributed profiles (pattern 2: a control plane, a key manager of its own and a
gateway of its own on one PostgreSQL and one Redis): each node runs only its part, the
gateway has no database and reaches the control plane and the key manager over verified
HTTPS, and the publish -> subscribe -> token -> invoke story works across the three."""

from __future__ import annotations

import shutil
import socket
import subprocess
import uuid

import pytest

import portico_node
from conftest import POSTGRES_URL, NodeLauncher
from gateway_support import (Backend, Caller, admin, deploy, endpoint_config, error_code,
                             gateway, lifecycle, publish_api, publisher, wait_for,
                             wait_for_status)
from portico_node import Node, binary_path, child_environment

ISSUER = "https://portico.pattern2.test/oauth2/token"
INTERNAL_PASSWORD = "pattern-2-internal-secret"
PROPAGATION_SECONDS = 10


def refusal(profile: str, tmp_path, **sections) -> subprocess.CompletedProcess:
    node = Node(tmp_path / profile, profile=profile, sections=sections)
    return subprocess.run(
        [str(binary_path()), "serve", "--profile", profile, "--config", str(node.config_path)],
        capture_output=True, text=True, timeout=30, env=child_environment())


@pytest.mark.parametrize("profile, missing", [
    ("control-plane", ["oauth.issuer", "internal_api.password", "redis.url", "database.url"]),
    ("key-manager", ["oauth.issuer", "internal_api.password", "redis.url", "database.url"]),
    ("gateway", ["oauth.issuer", "internal_api.password", "redis.url",
                 "gateway.control_plane_url"]),
])
def test_a_distributed_profile_without_its_settings_refuses_to_start_in_one_line(
        tmp_path, profile, missing):
    result = refusal(profile, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"the {profile} profile needs" in lines[0]
    for key in missing:
        assert key in lines[0]


def test_a_distributed_profile_names_only_what_is_missing(tmp_path):
    result = refusal("gateway", tmp_path, oauth={"issuer": ISSUER},
                     internal_api={"password": INTERNAL_PASSWORD},
                     redis={"url": "redis://127.0.0.1:1"})
    assert result.returncode == 2
    assert result.stderr.strip().endswith("needs gateway.control_plane_url"), result.stderr


def test_a_gateway_following_the_control_planes_event_stream_needs_no_redis(tmp_path):
    result = refusal("gateway", tmp_path, oauth={"issuer": ISSUER},
                     internal_api={"password": INTERNAL_PASSWORD}, events={"transport": "sse"})
    assert result.returncode == 2
    assert result.stderr.strip().endswith("needs gateway.control_plane_url"), result.stderr


def test_only_a_gateway_follows_the_event_stream(tmp_path):
    result = refusal("control-plane", tmp_path, events={"transport": "sse"})
    assert result.returncode == 2
    assert 'events.transport = "sse" is for the gateway profile' in result.stderr, result.stderr


def test_an_unknown_profile_is_refused(tmp_path):
    result = refusal("traffic-cop", tmp_path)
    assert result.returncode == 2
    assert "unknown profile 'traffic-cop'" in result.stderr




class Pattern2:
    def __init__(self, control_plane: Node, key_manager: Node, gateway_node: Node,
                 launcher: NodeLauncher, cluster_sections: dict):
        self.cp = control_plane
        self.km = key_manager
        self.gw = gateway_node
        self.launcher = launcher
        self.cluster_sections = cluster_sections

    def gateway_node(self, *serve_args: str) -> Node:
        """Another gateway of this cluster, started."""
        return self.launcher.new(profile="gateway", serve_args=serve_args,
                                 sections=self.gateway_sections())

    def gateway_sections(self) -> dict:
        return {**self.cluster_sections,
                "gateway": {"control_plane_url": self.cp.https_url,
                            "key_manager_url": self.km.https_url,
                            "control_plane_ca_file": self.cp.cert,
                            "node_id": "gw-" + uuid.uuid4().hex[:4]}}

    def token(self, caller: Caller) -> str:
        """An access token from the key manager node, for `caller`'s application."""
        client_id, secret = caller.credentials()
        response = self.km.request("POST", self.km.token_url,
                                   data={"grant_type": "client_credentials"},
                                   auth=(client_id, secret))
        assert response.status_code == 200, response.text
        return response.json()["access_token"]


@pytest.fixture(scope="module")
def pattern2(tmp_path_factory, redis):
    if not POSTGRES_URL:
        pytest.skip("PORTICO_TEST_POSTGRES_URL is not set (run under scripts/with-postgres)")
    launcher = NodeLauncher(tmp_path_factory, "postgresql")
    database_url = portico_node.create_postgres_database(POSTGRES_URL)
    cluster = {"oauth": {"issuer": ISSUER}, "internal_api": {"password": INTERNAL_PASSWORD},
               "redis": {"url": redis.url}}
    try:
        cp = launcher.new(profile="control-plane", database_url=database_url, sections=cluster)
        km = launcher.new(profile="key-manager", database_url=database_url, sections=cluster,
                          start=False)
        # One certificate for both: the gateway trusts it alone (control_plane_ca_file).
        shutil.copytree(cp.data_dir / "tls", km.data_dir / "tls")
        km.start()
        pattern = Pattern2(cp, km, None, launcher, cluster)
        pattern.gw = pattern.gateway_node()
        yield pattern
    finally:
        launcher.close()
        portico_node.drop_postgres_database(POSTGRES_URL, database_url)


@pytest.fixture(scope="module")
def backend():
    b = Backend("pattern2")
    yield b
    b.close()


def path_of(api: dict) -> str:
    return f"{api['context']}/1.0.0/items"


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except OSError:
        return True


def test_each_node_runs_only_its_part(pattern2):
    cp, km, gw = pattern2.cp, pattern2.km, pattern2.gw
    assert cp.get("/health/ready").json() == {"status": "ready", "profile": "control-plane"}
    assert km.get("/health/ready").json() == {"status": "ready", "profile": "key-manager"}
    # The key manager serves OAuth, not the publisher; the control plane runs no gateway.
    assert km.get("/oauth2/jwks").status_code == 200
    assert km.request("GET", km.https_url + "/api/am/publisher/v4/apis",
                      auth=km.admin_auth).status_code == 404
    assert refuses_connections(cp.gateway_http_port)
    # The gateway has no database and no control-plane listener.
    assert not (gw.data_dir / "portico.db").exists()
    assert refuses_connections(gw.https_port) and refuses_connections(gw.http_port)
    ready = gw.request("GET", gw.gateway_admin_url + "/health/ready")
    assert ready.status_code == 200, ready.text


def test_the_story_runs_across_the_control_plane_key_manager_and_gateway(pattern2, backend):
    api = publish_api(pattern2.cp, backend.url)
    caller = Caller(pattern2.cp)
    caller.subscribe(api)
    token = pattern2.token(caller)
    response = wait_for_status(pattern2.gw, "GET", path_of(api), 200, token,
                               timeout=PROPAGATION_SECONDS)
    assert response.json()["path"].endswith("/items")


def test_a_token_the_key_manager_revokes_is_refused_by_the_gateway(pattern2, backend):
    api = publish_api(pattern2.cp, backend.url)
    caller = Caller(pattern2.cp)
    caller.subscribe(api)
    token = pattern2.token(caller)
    wait_for_status(pattern2.gw, "GET", path_of(api), 200, token, timeout=PROPAGATION_SECONDS)
    client_id, secret = caller.credentials()
    revoked = pattern2.km.request("POST", pattern2.km.https_url + "/oauth2/revoke",
                                  data={"token": token}, auth=(client_id, secret))
    assert revoked.status_code == 200
    refused = wait_for_status(pattern2.gw, "GET", path_of(api), 401, token,
                              timeout=PROPAGATION_SECONDS)
    assert error_code(refused) == 900901


def test_a_gateway_serves_the_environment_it_is_started_for(pattern2, backend):
    cp = pattern2.cp
    name = "internal-" + uuid.uuid4().hex[:6]
    created = admin(cp, "POST", "/environments",
                    json={"name": name, "displayName": name,
                          "vhosts": [{"host": "internal.example.com"}]})
    assert created.status_code == 201, created.text
    internal = pattern2.gateway_node("--environment", name)
    api_name = "Internal" + uuid.uuid4().hex[:6]
    created = publisher(cp, "POST", "/apis",
                        json={"name": api_name, "context": "/" + api_name.lower(),
                              "version": "1.0.0", "endpointConfig": endpoint_config(backend.url),
                              "policies": ["Unlimited"]})
    assert created.status_code == 201, created.text
    api = created.json()
    deploy(cp, api["id"], name)
    lifecycle(cp, api["id"], "Publish")
    caller = Caller(cp)
    caller.subscribe(api)
    token = pattern2.token(caller)
    wait_for_status(internal, "GET", path_of(api), 200, token, timeout=PROPAGATION_SECONDS)
    # Deployed to its environment only: the Default gateway serves its own APIs, not that one.
    other = publish_api(cp, backend.url)
    caller.subscribe(other)
    wait_for_status(pattern2.gw, "GET", path_of(other), 200, token, timeout=PROPAGATION_SECONDS)
    assert gateway(pattern2.gw, "GET", path_of(api), token).status_code == 404
    internal.stop()


def test_a_gateway_that_cannot_verify_the_control_plane_refuses_it(pattern2, tmp_path):
    sections = pattern2.gateway_sections()
    sections["gateway"]["control_plane_ca_file"] = ""  # the system's store: not our CA
    node = pattern2.launcher.new(profile="gateway", sections=sections)
    ready = node.request("GET", node.gateway_admin_url + "/health/ready")
    assert ready.status_code == 503
    assert "certificate verify failed" in node.log_tail(200) or \
        "handshake" in node.log_tail(200)
    node.stop()


def test_the_gateways_analytics_reach_the_control_plane_with_its_node_id(pattern2, backend):
    api = publish_api(pattern2.cp, backend.url)
    caller = Caller(pattern2.cp)
    caller.subscribe(api)
    token = pattern2.token(caller)
    node_id = pattern2.gw.sections["gateway"]["node_id"]

    def counted() -> int:
        response = pattern2.cp.request(
            "GET", pattern2.cp.https_url + "/api/am/analytics/v1/requests",
            params={"groupBy": "node", "apiId": api["id"]}, auth=pattern2.cp.admin_auth)
        assert response.status_code == 200, response.text
        return {row["nodeId"]: row["requests"] for row in response.json()["list"]}.get(node_id, 0)

    # The calls that waited for the gateway to know the API are counted too: wait until they
    # all arrived (the count holds still for a few flush intervals), then call four times.
    wait_for_status(pattern2.gw, "GET", path_of(api), 200, token, timeout=PROPAGATION_SECONDS)
    seen = [counted()]
    wait_for(lambda: seen.append(counted()) or (seen[-1] > 0 and seen[-1] == seen[-2]),
             timeout=20, interval=3)
    for _ in range(4):
        assert gateway(pattern2.gw, "GET", path_of(api), token).status_code == 200
    try:
        wait_for(lambda: counted() == seen[-1] + 4, timeout=20, interval=0.3)
    except AssertionError:
        raise AssertionError(f"{counted()} requests from {node_id}, expected {seen[-1] + 4}")


def test_a_gateway_sends_its_analytics_to_its_analytics_url(pattern2, backend):
    """gateway.analytics_url: an environment's gateways may report to a control plane of
    their own (here an all-in-one node with a database of its own), not to the one they pull
    their configuration from."""
    elsewhere = pattern2.launcher.new(backend="sqlite", start=False,
                                      sections={"internal_api": {"password": INTERNAL_PASSWORD}})
    shutil.copytree(pattern2.cp.data_dir / "tls", elsewhere.data_dir / "tls")  # one CA file
    elsewhere.start()
    sections = pattern2.gateway_sections()
    sections["gateway"]["analytics_url"] = elsewhere.https_url
    gw = pattern2.launcher.new(profile="gateway", sections=sections)
    node_id = sections["gateway"]["node_id"]
    api = publish_api(pattern2.cp, backend.url)
    caller = Caller(pattern2.cp)
    caller.subscribe(api)
    token = pattern2.token(caller)

    def requests_from_gateway(node: Node) -> int:
        response = node.request("GET", node.https_url + "/api/am/analytics/v1/requests",
                                params={"groupBy": "node", "apiId": api["id"]},
                                auth=node.admin_auth)
        assert response.status_code == 200, response.text
        return {row["nodeId"]: row["requests"] for row in response.json()["list"]}.get(node_id, 0)

    wait_for_status(gw, "GET", path_of(api), 200, token, timeout=PROPAGATION_SECONDS)
    for _ in range(3):
        assert gateway(gw, "GET", path_of(api), token).status_code == 200
    wait_for(lambda: requests_from_gateway(elsewhere) >= 4, timeout=20, interval=0.3)
    assert requests_from_gateway(pattern2.cp) == 0
    gw.stop()
    elsewhere.stop()

"""deploy/local-cluster brings a whole deployment pattern up on this machine: PostgreSQL,
Redis, nginx and each Portico node a process, with TLS from a CA of its own. One cluster
(pattern 2: control plane, key manager and gateway, each its own process) serves the whole
module, since start-up is slow: the README's story (publish, subscribe, token, invoke) runs
through nginx, a gateway killed and started again serves again, and `down` leaves no
process behind.

PORTICO_LOCAL_CLUSTER_PATTERN runs the same tests on another pattern (3-distributed).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import requests

from cluster_support import DEPLOY, ClusterEntry, local_cluster
from gateway_support import Backend, Caller, publish_api, wait_for_status
from portico_node import binary_path, child_environment

PATTERN = os.environ.get("PORTICO_LOCAL_CLUSTER_PATTERN", "2-gateway-key-manager")


def local_cluster_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(DEPLOY / "local-cluster"), *args], capture_output=True,
                          text=True, timeout=300, env=child_environment())


def status_rows(directory: Path) -> dict[str, list[str]]:
    """`local-cluster status` as {name: [kind, pid, up|down]}."""
    result = local_cluster_command("status", PATTERN, "--dir", str(directory))
    return {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()}


def alive(pid: str) -> bool:
    """Whether the process runs: a zombie (exited, its parent not having reaped it yet) does
    not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def processes_mentioning(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command and "pytest" not in command and alive(cmdline.parent.name):
            found.append(f"{cmdline.parent.name}: {command}")
    return found


@pytest.fixture(scope="module")
def cluster_dir(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp("local-cluster") / Path(PATTERN).name
    # The command line, as a user would run it; it prints the path of endpoints.env.
    result = local_cluster_command("up", PATTERN, "--dir", str(directory),
                                   "--binary", str(binary_path()))
    try:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == str(directory.resolve() / "endpoints.env")
        yield directory
    finally:
        # The databases go; after a failure the logs stay in DIR/logs.
        local_cluster.down(directory, purge=request.session.testsfailed == 0)


@pytest.fixture(scope="module")
def endpoints(cluster_dir) -> dict[str, str]:
    return local_cluster.read_endpoints(cluster_dir / "endpoints.env")


@pytest.fixture(scope="module")
def entry(endpoints) -> ClusterEntry:
    return ClusterEntry(endpoints)


@pytest.fixture(scope="module")
def backend():
    b = Backend("local-cluster")
    yield b
    b.close()


def test_status_lists_every_process_of_the_pattern_as_up(cluster_dir, endpoints):
    pattern = local_cluster.load_pattern(PATTERN)
    rows = status_rows(cluster_dir)
    expected = {"postgresql", "redis", "nginx"} | {n.name for n in pattern.nodes}
    assert set(rows) == expected
    for name, (kind, pid, state) in rows.items():
        assert state == "up", (name, rows)
        assert pid == endpoints[f"PORTICO_NODE_{name}_PID"]
        assert Path(f"/proc/{pid}").exists()
    assert endpoints["PORTICO_NODES"].split() == list(rows)


def test_endpoints_name_the_entry_points_and_every_nodes_ports(cluster_dir, endpoints, entry):
    for key in ("PORTICO_CP", "PORTICO_KM", "PORTICO_GW", "PORTICO_ADMIN", "PORTICO_CA"):
        assert endpoints[key], key
    # One issuer for the cluster: the key managers' public URL behind nginx.
    metadata = entry.request("GET", endpoints["PORTICO_KM"] +
                             "/.well-known/oauth-authorization-server")
    assert metadata.status_code == 200, metadata.text
    assert metadata.json()["issuer"] == endpoints["PORTICO_KM"] + "/oauth2/token"
    for node in local_cluster.load_pattern(PATTERN).nodes:
        prefix = f"PORTICO_NODE_{node.name}_"
        assert endpoints[prefix + "KIND"] == node.profile
        assert int(endpoints[prefix + "HTTPS"]) > 0
        if node.profile == "gateway":
            ready = requests.get(f"http://127.0.0.1:{endpoints[prefix + 'ADMIN']}/health/ready",
                                 timeout=5)
            assert ready.status_code == 200, ready.text
        else:
            # Each node presents a certificate of the cluster's CA for 127.0.0.1.
            jwks = entry.request("GET", f"https://127.0.0.1:{endpoints[prefix + 'HTTPS']}"
                                        f"/oauth2/jwks")
            assert jwks.status_code == 200


def test_no_endpoint_variable_is_a_configuration_key(endpoints):
    """A shell that sourced endpoints.env still starts nodes configured by their files."""
    reference = subprocess.run([str(binary_path()), "config", "reference"], capture_output=True,
                               text=True, check=True).stdout
    assert [k for k in endpoints if f"`{k}`" in reference] == []


def test_the_readme_story_runs_through_nginx(entry, backend):
    api = publish_api(entry, backend.url)
    caller = Caller(entry)
    caller.subscribe(api)
    token = caller.token()
    response = wait_for_status(entry, "GET", f"{api['context']}/1.0.0/items", 200, token,
                               verify=entry.cert)
    assert response.json()["path"].endswith("/items")


def test_a_killed_gateway_started_again_serves_again(cluster_dir, entry, backend):
    pattern = local_cluster.load_pattern(PATTERN)
    gateway = pattern.of_profile("gateway", "all-in-one")[-1].name
    api = publish_api(entry, backend.url)
    caller = Caller(entry)
    caller.subscribe(api)
    token = caller.token()
    path = f"{api['context']}/1.0.0/items"
    wait_for_status(entry, "GET", path, 200, token, verify=entry.cert)

    result = local_cluster_command("kill-node", PATTERN, gateway, "--dir", str(cluster_dir))
    assert result.returncode == 0, result.stderr
    assert status_rows(cluster_dir)[gateway][2] == "down"
    killed = local_cluster.read_endpoints(cluster_dir / "endpoints.env")
    assert killed[f"PORTICO_NODE_{gateway}_PID"] == ""

    result = local_cluster_command("start-node", PATTERN, gateway, "--dir", str(cluster_dir))
    assert result.returncode == 0, result.stderr
    restarted = local_cluster.read_endpoints(cluster_dir / "endpoints.env")
    assert status_rows(cluster_dir)[gateway][1:] == [restarted[f"PORTICO_NODE_{gateway}_PID"],
                                                     "up"]
    direct = requests.get(
        f"https://localhost:{restarted[f'PORTICO_NODE_{gateway}_GATEWAY_HTTPS']}{path}",
        headers={"Authorization": f"Bearer {token}"}, verify=entry.cert, timeout=10)
    assert direct.status_code == 200, direct.text


def test_up_again_starts_nothing_new(cluster_dir, endpoints):
    before = local_cluster.read_endpoints(cluster_dir / "endpoints.env")
    result = local_cluster_command("up", PATTERN, "--dir", str(cluster_dir))
    assert result.returncode == 0, result.stderr
    after = local_cluster.read_endpoints(cluster_dir / "endpoints.env")
    pids = {k: v for k, v in after.items() if k.endswith("_PID")}
    assert pids == {k: v for k, v in before.items() if k.endswith("_PID")}
    assert after["PORTICO_CP"] == endpoints["PORTICO_CP"]


def test_down_stops_every_process_it_started(cluster_dir):
    """Last of the module: the fixture's own down() finds nothing left to stop."""
    pids = [p for k, p in local_cluster.read_endpoints(cluster_dir / "endpoints.env").items()
            if k.endswith("_PID") and p]
    result = local_cluster_command("down", PATTERN, "--dir", str(cluster_dir))
    assert result.returncode == 0, result.stderr
    assert all(state == "down" for _, _, state in status_rows(cluster_dir).values())
    assert [p for p in pids if alive(p)] == []
    assert processes_mentioning(str(cluster_dir.resolve())) == []

"""Several nodes for tests: a throwaway Redis for nodes that share a database, and whole
deployment patterns started with deploy/local-cluster (PostgreSQL, Redis, nginx and each
Portico node a process, TLS from the cluster's own CA)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import requests

from gateway_support import wait_for
from portico_node import Node, binary_path, free_ports

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
sys.path.insert(0, str(DEPLOY))
import local_cluster  # noqa: E402,F401  (re-exported for the tests)


class ClusterEntry:
    """The cluster as clients see it, through nginx, shaped like a Node for the helpers of
    tests/*_support.py: the REST APIs at PORTICO_CP, tokens at PORTICO_KM, API calls at
    PORTICO_GW, every certificate checked against the cluster's CA."""

    def __init__(self, endpoints: dict[str, str]):
        self.https_url = endpoints["PORTICO_CP"]
        self.gateway_url = endpoints["PORTICO_GW"]
        self.token_url = endpoints["PORTICO_KM"] + "/oauth2/token"
        self.cert = endpoints["PORTICO_CA"]
        username, password = endpoints["PORTICO_ADMIN"].split(":", 1)
        self.admin_auth = (username, password)

    session = Node.session
    request = Node.request
    get = Node.get
    post = Node.post


class Cluster:
    """A running pattern: its nodes by name, stopped and started again as the tests need."""

    def __init__(self, directory, endpoints: dict[str, str]):
        self.directory = directory
        self.endpoints = endpoints
        self.front = ClusterEntry(endpoints)

    def gateway_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.endpoints[f'PORTICO_NODE_{name}_GATEWAY_HTTP']}"

    def admin_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.endpoints[f'PORTICO_NODE_{name}_ADMIN']}"

    def key_manager_url(self) -> str:
        return f"https://localhost:{self.endpoints['PORTICO_NODE_km1_HTTPS']}"

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        self.endpoints = local_cluster.stop_node(self.directory, name, sig)

    def start(self, name: str) -> None:
        self.endpoints = local_cluster.start_node(self.directory, name)

    def wait_for_front(self) -> None:
        """nginx keeps a node it saw fail out for fail_timeout (2 s) even once it is back."""
        def answers():
            try:
                return self.front.request("GET", self.front.https_url + "/health/ready",
                                          timeout=2).status_code == 200
            except requests.RequestException:
                return False
        wait_for(answers, timeout=15, interval=0.2)


def start_cluster(tmp_path_factory, pattern: str,
                  netns: bool = False) -> tuple[Path, dict[str, str]]:
    """Brings `pattern` up in a fresh folder (with `netns`, each node in a network namespace
    of its own); returns the folder and endpoints.env."""
    directory = tmp_path_factory.mktemp("cluster") / Path(pattern).name
    try:
        return directory, local_cluster.up(pattern, directory, binary=str(binary_path()),
                                           netns=netns)
    except Exception:
        local_cluster.down(directory, purge=False)
        raise


class RedisServer:
    """Debian's redis-server on a fixed free port, without persistence: stopping and
    starting it again gives an empty Redis on the same address."""

    def __init__(self):
        self.port = free_ports(1)[0]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            ping = subprocess.run(["redis-cli", "-p", str(self.port), "PING"],
                                  capture_output=True, text=True)
            if ping.stdout.strip() == "PONG":
                return
        raise AssertionError("redis-server did not answer PING")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

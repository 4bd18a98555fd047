"""deploy/local-cluster: starts a deployment pattern of deploy/patterns/ on this machine,
PostgreSQL, Redis and nginx from Debian and each Portico node a process on its own loopback
ports (or, with --netns, each in a network namespace of its own: netns.py), with TLS from a
CA generated for the cluster (docs/deployment.md). Tests import this package and call up(),
down(), status(), start_node(), stop_node() and, with --netns, cut_link(), restore_link() and
run_in_node(); the command line is deploy/local-cluster (cli.py). Only the standard library
and the Debian commands initdb, pg_ctl, psql, redis-server, nginx, openssl, ip and nft are
used."""

from __future__ import annotations

import shlex
import signal
import subprocess
from pathlib import Path

from . import netns as _netns
from .cluster import Cluster, default_directory
from .pattern import load_pattern
from .processes import ClusterError

__all__ = ["ClusterError", "cut_link", "default_directory", "down", "load_pattern",
           "netns_unavailable_reason", "read_endpoints", "restore_link", "run_in_node",
           "start_node", "status", "stop_node", "up"]


def read_endpoints(path: Path | str) -> dict[str, str]:
    """endpoints.env as a dict (the values as the shell would see them)."""
    env = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = shlex.split(value)[0] if value else ""
    return env


# ---- the functions tests call ---------------------------------------------------------------

def up(pattern: str, directory: Path | str | None = None, *, variant: str = "",
       binary: str | None = None, netns: bool = False) -> dict[str, str]:
    """Starts the pattern (what does not run yet) and returns endpoints.env as a dict. With
    `netns`, each node in a network namespace of its own (ClusterError when this machine does
    not allow it: netns_unavailable_reason() says why beforehand)."""
    directory = Path(directory) if directory else default_directory(pattern, variant)
    return Cluster(directory).up(pattern, variant, binary, netns)


def down(directory: Path | str, purge: bool = False) -> None:
    Cluster(directory).down(purge)


def status(directory: Path | str) -> list[dict]:
    return Cluster(directory).status()


def start_node(directory: Path | str, name: str, wait: bool = True) -> dict[str, str]:
    """Starts one process of the cluster again (after stop_node or a crash) with the same
    ports, configuration and data; with `wait`, until it is ready (a gateway: until its
    /health/ready answers 200). Returns the updated endpoints (its new pid)."""
    cluster = Cluster(directory)
    cluster.start(name, wait=wait)
    return cluster.write_endpoints()


def stop_node(directory: Path | str, name: str, sig: int = signal.SIGTERM) -> dict[str, str]:
    cluster = Cluster(directory)
    if name not in dict(cluster.members(cluster.pattern())):
        raise ClusterError(f"no process {name} in this cluster")
    cluster.stop(name, sig)
    return cluster.write_endpoints()


# ---- with --netns --------------------------------------------------------------------------

def netns_unavailable_reason() -> str:
    """'' when up(..., netns=True) can work on this machine, else why not."""
    return _netns.unavailable_reason()


def cut_link(directory: Path | str, name: str, to: str = "control-plane") -> None:
    """A firewall rule in node `name`'s namespace breaks its link to `to` (an egress name of
    cluster.toml), its open connections included."""
    Cluster(directory).cut_link(name, to)


def restore_link(directory: Path | str, name: str) -> None:
    Cluster(directory).restore_link(name)


def run_in_node(directory: Path | str, name: str, command: list[str],
                timeout: float = 30) -> subprocess.CompletedProcess:
    """Runs `command` inside node `name`'s namespace: what that host can reach."""
    cluster = Cluster(directory)
    if not cluster.net:
        raise ClusterError("running in a node's namespace needs a cluster started with --netns")
    return _netns.run_in(cluster.net, name, command, timeout=timeout)

"""local-cluster --netns: each Portico node a host of its own, in a network namespace joined
to a bridge made for the run, with the pattern's egress rules in nftables (docs/deployment.md).

The bridge takes a free /24 of 10.0.0.0/8 and its first address; the nodes take the next ones
in start order. PostgreSQL, Redis and nginx stay in the root namespace, bound to the bridge's
address: nginx stands for the edge the clients come through, and the servers keep their
administration (psql over its socket, pg_ctl as the postgres user) as on loopback. The
bridge's last address (.254) stands for the world outside the cluster: backends of APIs
listen there.

A node's [[node]] table in cluster.toml may list `egress`: the only places it may open
connections to ("control-plane": nginx's listener in front of the control planes; also
"key-manager", "postgresql", "redis", and "outside": any port of the outside address). Its
namespace then holds table inet portico_netns: everything else it opens is rejected (a TCP
reset: "connection refused"), while the connections nginx and the tests open to it are
answered. Without `egress` a node may connect anywhere.

Every name carries the run's id (from the run folder), so that `down` finds and removes what
a crashed runner left: the namespaces (after killing what still runs in them), the veths and
the bridge. Only `ip` (iproute2) and `nft` (nftables) are used; both need root."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from .processes import ClusterError

TABLE = "portico_netns"
SUBNETS = ipaddress.ip_network("10.0.0.0/8")
# Egress names of cluster.toml: the port key (state.json "ports") each one means.
EGRESS_PORTS = {"control-plane": "nginx_cp", "key-manager": "nginx_km",
                "postgresql": "postgresql", "redis": "redis", "outside": None}


def unavailable_reason() -> str:
    """'' when this machine lets local-cluster make namespaces, else why not."""
    if os.geteuid() != 0:
        return "--netns needs root (network namespaces, veths, a bridge and nftables rules)"
    for command, package in (("ip", "iproute2"), ("nft", "nftables")):
        if not shutil.which(command):
            return f"--netns needs the {command} command (Debian package {package})"
    probe = f"portico-probe-{os.getpid()}"
    result = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if result.returncode != 0:
        return f"--netns: this machine does not allow network namespaces " \
               f"(ip netns add: {result.stderr.strip()})"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return ""


def run_id(directory: Path) -> str:
    """Six hex digits of the run folder: in every name, short enough for an interface's."""
    return hashlib.sha256(str(directory).encode()).hexdigest()[:6]


def plan(directory: Path, nodes: list[str]) -> dict:
    """The names and addresses of a run (kept in state.json "netns")."""
    ident = run_id(directory)
    subnet = _free_subnet()
    hosts = list(subnet.hosts())
    return {
        "id": ident,
        "subnet": str(subnet),
        "bridge": f"pcb{ident}",
        "address": str(hosts[0]),
        "outside": str(hosts[-1]),
        "nodes": {name: {"namespace": f"portico-{ident}-{name}", "veth": f"pcv{ident}{i}",
                         "address": str(hosts[i + 1])} for i, name in enumerate(nodes)},
    }


def create(net: dict) -> None:
    """The bridge and, per node, its namespace and veth; what exists already is kept."""
    prefix = ipaddress.ip_network(net["subnet"]).prefixlen
    if not _link_exists(net["bridge"]):
        _ip("link", "add", net["bridge"], "type", "bridge")
        _ip("addr", "add", f"{net['address']}/{prefix}", "dev", net["bridge"])
        _ip("addr", "add", f"{net['outside']}/{prefix}", "dev", net["bridge"])
        _ip("link", "set", net["bridge"], "up")
    existing, links = set(_namespaces()), set(_links())
    for node in net["nodes"].values():
        namespace, veth = node["namespace"], node["veth"]
        if namespace in existing and veth in links:
            continue
        if namespace in existing:  # half made by a runner that crashed: made again
            _ip("netns", "del", namespace)
        _ip("netns", "add", namespace)
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        _ip("link", "set", veth, "master", net["bridge"], "up")
        inside = ["-n", namespace]
        _ip(*inside, "addr", "add", f"{node['address']}/{prefix}", "dev", "eth0")
        _ip(*inside, "link", "set", "eth0", "up")
        _ip(*inside, "link", "set", "lo", "up")


def exec_prefix(net: dict, name: str) -> list[str]:
    """What runs a command inside node `name`'s namespace."""
    return ["ip", "netns", "exec", net["nodes"][name]["namespace"]]


def restrict_egress(net: dict, name: str, allowed: list[tuple[str, int | None]]) -> None:
    """Node `name` may open connections to the (address, TCP port) pairs of `allowed` (port
    None: any) and to its own loopback only; answers to the connections made to it pass. The
    chains cut_out and cut_in come first, empty: cut_link() fills them."""
    accepts = "".join(f"        ip daddr {address} tcp dport {port} accept\n" if port else
                      f"        ip daddr {address} accept\n" for address, port in allowed)
    rules = _table("        oif lo accept\n"
                   "        ct state established,related accept\n"
                   f"{accepts}"
                   "        meta l4proto tcp reject with tcp reset\n"
                   "        reject\n")
    namespace = net["nodes"][name]["namespace"]
    subprocess.run(["ip", "netns", "exec", namespace, "nft", "delete", "table", "inet", TABLE],
                   capture_output=True)  # absent on a first start
    _run(["ip", "netns", "exec", namespace, "nft", "-f", "-"], input=rules)


def cut_link(net: dict, name: str, address: str, port: int) -> None:
    """Breaks node `name`'s link to address:port, the connections it holds included: what it
    sends there is reset, what comes from there is dropped."""
    namespace = net["nodes"][name]["namespace"]
    nft = ["ip", "netns", "exec", namespace, "nft"]
    _ensure_cut_chains(nft)
    _run([*nft, "add", "rule", "inet", TABLE, "cut_out", "ip", "daddr", address, "tcp",
          "dport", str(port), "reject", "with", "tcp", "reset"])
    _run([*nft, "add", "rule", "inet", TABLE, "cut_in", "ip", "saddr", address, "tcp",
          "sport", str(port), "drop"])


def restore_link(net: dict, name: str) -> None:
    """Undoes cut_link() for node `name`."""
    nft = ["ip", "netns", "exec", net["nodes"][name]["namespace"], "nft"]
    _ensure_cut_chains(nft)
    _run([*nft, "flush", "chain", "inet", TABLE, "cut_out"])
    _run([*nft, "flush", "chain", "inet", TABLE, "cut_in"])


def destroy(ident: str) -> None:
    """Removes everything of run `ident`, whatever state it is in: the processes still in its
    namespaces (SIGKILL), the namespaces, veths and bridge. Safe to call again."""
    for namespace in _namespaces():
        if not namespace.startswith(f"portico-{ident}-"):
            continue
        pids = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True,
                              text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
    for link in _links():
        if link.startswith((f"pcv{ident}", f"pcb{ident}")):
            subprocess.run(["ip", "link", "del", link], capture_output=True)


def run_in(net: dict, name: str, command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Runs `command` inside node `name`'s namespace (tests: what a node can reach)."""
    return subprocess.run([*exec_prefix(net, name), *command], capture_output=True, text=True,
                          **kwargs)


_STATUS_PROBE = """
import sys, urllib.error, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
except OSError as e:
    print(0, e)
"""


def http_status(net: dict, name: str, url: str) -> int:
    """The status of GET `url` from inside node `name`'s namespace (0: no answer): for what a
    node serves on its own loopback only, as a gateway's admin port."""
    done = run_in(net, name, [sys.executable, "-c", _STATUS_PROBE, url], timeout=10)
    if done.returncode != 0 or not done.stdout.strip():
        raise OSError(f"probe in {net['nodes'][name]['namespace']}: {done.stderr.strip()}")
    status, *error = done.stdout.split(maxsplit=1)
    if status == "0":
        raise OSError(error[0].strip() if error else "no answer")
    return int(status)


# ---- helpers ------------------------------------------------------------------------------

def _ensure_cut_chains(nft: list[str]) -> None:
    """A node without `egress` has no table yet: one with the cut chains hooked in."""
    if subprocess.run([*nft, "list", "table", "inet", TABLE], capture_output=True).returncode:
        _run([*nft, "-f", "-"], input=_table(""))


def _table(output_rules: str) -> str:
    """Table inet portico_netns: the cut chains, jumped to first, then `output_rules`."""
    return (f"table inet {TABLE} {{\n"
            "    chain cut_out {\n    }\n"
            "    chain cut_in {\n    }\n"
            "    chain input {\n"
            "        type filter hook input priority 0; policy accept;\n"
            "        jump cut_in\n"
            "    }\n"
            "    chain output {\n"
            "        type filter hook output priority 0; policy accept;\n"
            "        jump cut_out\n"
            f"{output_rules}"
            "    }\n"
            "}\n")


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 of 10.0.0.0/8 that no address or route of this machine overlaps."""
    taken = []
    for family in (["addr"], ["route"]):
        out = _run(["ip", "-j", "-4", *family, "show"]).stdout
        for entry in json.loads(out or "[]"):
            if "addr_info" in entry:
                taken += [ipaddress.ip_network(f"{a['local']}/{a['prefixlen']}", strict=False)
                          for a in entry["addr_info"]]
            elif entry.get("dst") not in (None, "default"):
                taken.append(ipaddress.ip_network(entry["dst"], strict=False))
    candidates = list(SUBNETS.subnets(new_prefix=24))
    for subnet in random.sample(candidates[1:], 512):
        if not any(subnet.overlaps(t) for t in taken):
            return subnet
    raise ClusterError("--netns: no free /24 in 10.0.0.0/8 on this machine")


def _namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _links() -> list[str]:
    out = subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True).stdout
    return [link["ifname"] for link in json.loads(out or "[]")]


def _link_exists(name: str) -> bool:
    return name in _links()


def _ip(*args: str) -> None:
    _run(["ip", *args])


def _run(command: list[str], input: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, input=input)
    if result.returncode != 0:
        raise ClusterError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result

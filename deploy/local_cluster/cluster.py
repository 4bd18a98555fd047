"""A local cluster's run folder and what runs from it (docs/deployment.md):

    state.json        pattern, ports, generated secrets and the processes started
    endpoints.env     what clients need
    tls/              ca.crt, and a key and certificate per server signed by that CA
    nodes/NAME/       portico.toml (the pattern's template filled in) and data/
    postgresql/       the database cluster (initdb)
    redis/            Redis's append-only file
    nginx/            nginx.conf, pid and temporary files
    logs/             one log per process
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import string
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import netns
from .pattern import (CONTROL_PROFILES, DEFAULT_ENVIRONMENT, DEPLOY_DIR, GATEWAY_PROFILES,
                      START_ORDER, TRAFFIC_PROFILES, NodeSpec, Pattern, fill, load_pattern)
from .postgresql import PostgreSQL
from .processes import (HOST, STOP_TIMEOUT_SECONDS, ClusterError, is_running, log_tail,
                        free_ports, port_is_free, spawn, tcp_open, terminate, wait_stopped)
from .tls import make_ca, server_certificate

NGINX_TEMPLATE = DEPLOY_DIR / "nginx" / "local-cluster.conf"
NGINX_GATEWAYS_TEMPLATE = DEPLOY_DIR / "nginx" / "local-cluster-gateways.conf"
ADMIN_ENVIRONMENTS = "/api/am/admin/v4/environments"
REPO_BINARY = DEPLOY_DIR.parent / "build" / "portico"
ADMIN_USERNAME = "admin"
READY_TIMEOUT_SECONDS = 90


class Cluster:
    """One run folder. Every method is safe to call again: up() starts what is not running,
    down() stops what runs."""

    def __init__(self, directory: Path | str):
        self.dir = Path(directory).resolve()
        self.state_path = self.dir / "state.json"
        self.state: dict = json.loads(self.state_path.read_text()) \
            if self.state_path.is_file() else {}

    # ---- paths and state --------------------------------------------------------------

    @property
    def logs(self) -> Path:
        return self.dir / "logs"

    @property
    def tls(self) -> Path:
        return self.dir / "tls"

    @property
    def ca_file(self) -> Path:
        return self.tls / "ca.crt"

    def log_of(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def node_dir(self, name: str) -> Path:
        return self.dir / "nodes" / name

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=2, sort_keys=True) + "\n")
        os.chmod(tmp, 0o600)  # it holds the generated passwords
        tmp.replace(self.state_path)

    @property
    def processes(self) -> dict[str, dict]:
        return self.state.setdefault("processes", {})

    def pattern(self) -> Pattern:
        if "pattern" not in self.state:
            raise ClusterError(f"{self.dir}: no cluster here (run up first)")
        return load_pattern(self.state["pattern"], self.state.get("variant", ""))

    def members(self, pattern: Pattern) -> list[tuple[str, str]]:
        """(name, kind) of every process of the pattern in start order; kind is a node's
        profile or the name of a server."""
        servers = [("postgresql", pattern.postgresql), ("redis", pattern.redis),
                   ("nginx", pattern.nginx)]
        members = [(name, name) for name, used in servers if used]
        members += [(n.name, n.profile) for n in pattern.nodes]
        return sorted(members, key=lambda m: START_ORDER.index(m[1]))

    def running(self, name: str) -> bool:
        return is_running(self.processes.get(name))

    # ---- up -----------------------------------------------------------------------------

    def up(self, pattern_name: str, variant: str = "", binary: str | None = None,
           with_netns: bool = False) -> dict:
        if self.state.get("pattern") and (self.state["pattern"], self.state.get("variant", "")) \
                != (pattern_name, variant):
            raise ClusterError(f"{self.dir} holds pattern {self.state['pattern']} "
                               f"{self.state.get('variant', '')}: down it and remove the folder, "
                               f"or choose another --dir")
        pattern = load_pattern(pattern_name, variant)
        unavailable = netns.unavailable_reason() if with_netns else ""
        if unavailable:
            raise ClusterError(unavailable)  # before anything is made
        self.state.update(pattern=pattern_name, variant=variant)
        self.state["binary"] = str(Path(binary or self.state.get("binary") or default_binary())
                                   .resolve())
        for folder in (self.dir, self.logs, self.tls, self.dir / "nodes"):
            folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)  # the postgres user walks through it
        members = self.members(pattern)
        if not any(self.running(name) for name, _ in members):
            self._choose_ports(pattern)
            self._choose_network(pattern, with_netns)
        elif with_netns != bool(self.net):
            raise ClusterError(f"{self.dir} runs {'in namespaces' if self.net else 'on loopback'}:"
                               f" down it first to change")
        secrets_ = self.state.setdefault("secrets", {})
        secrets_.setdefault("admin_password", secrets.token_hex(12))
        secrets_.setdefault("internal_password", secrets.token_hex(16))
        secrets_.setdefault("database_password", secrets.token_hex(12))
        self.save()
        if self.net:
            netns.create(self.net)
            self._restrict_egress(pattern)
        self._make_tls(pattern)
        self._write_configs(pattern)
        environments_put = False
        for name, kind in members:
            if kind == "gateway" and pattern.environments and not environments_put:
                # Before the first gateway: it pulls its environment's APIs from its start on.
                self._put_environments(pattern)
                environments_put = True
            self.start(name, kind, pattern)
        return self.write_endpoints(pattern)

    def _choose_ports(self, pattern: Pattern) -> None:
        """Keeps the ports of the last run when they are all free (the issuer and the URLs
        in endpoints.env stay the same), else picks new ones."""
        wanted = ["postgresql", "redis", "nginx_cp", "nginx_km"]
        for environment in pattern.gateway_environments():
            wanted += [gateway_port_key(environment), gateway_port_key(environment) + "_http"]
        for node in pattern.nodes:
            wanted += [f"{node.name}_https", f"{node.name}_gateway_http",
                       f"{node.name}_gateway_https", f"{node.name}_gateway_admin"]
        old = self.state.get("ports", {})
        if set(wanted) <= set(old) and all(port_is_free(old[k]) for k in wanted):
            return
        self.state["ports"] = dict(zip(wanted, free_ports(len(wanted))))

    def port(self, key: str) -> int:
        return self.state["ports"][key]

    # ---- addresses: loopback, or with --netns a namespace per node (netns.py) ---------------

    @property
    def net(self) -> dict | None:
        return self.state.get("netns")

    def _choose_network(self, pattern: Pattern, with_netns: bool) -> None:
        """Loopback, or the namespaces and bridge of the last run (so the addresses in
        endpoints.env stay the same), or new ones."""
        if not with_netns:
            self.state.pop("netns", None)
            return
        names = [n.name for n in pattern.nodes]
        if not self.net or list(self.net["nodes"]) != names:
            self.state["netns"] = netns.plan(self.dir, names)

    def address(self, name: str) -> str:
        """Where process `name` listens: 127.0.0.1, or with --netns its namespace's address
        (a node) or the bridge's (PostgreSQL, Redis, nginx: the root namespace)."""
        if not self.net:
            return HOST
        node = self.net["nodes"].get(name)
        return node["address"] if node else self.net["address"]

    def url_host(self, name: str) -> str:
        """The host of URLs to process `name`, as its certificate names it."""
        return self.address(name) if self.net else "localhost"

    def _egress_target(self, egress: str) -> tuple[str, int | None]:
        if egress not in netns.EGRESS_PORTS:
            raise ClusterError(f"egress {egress!r}: one of {', '.join(netns.EGRESS_PORTS)}")
        key = netns.EGRESS_PORTS[egress]
        if key is None:
            return self.net["outside"], None
        return self.address("nginx" if key.startswith("nginx") else key), self.port(key)

    def _restrict_egress(self, pattern: Pattern) -> None:
        for node in pattern.nodes:
            if node.egress is not None:
                netns.restrict_egress(self.net, node.name,
                                      [self._egress_target(e) for e in node.egress])

    def cut_link(self, name: str, to: str) -> None:
        if not self.net:
            raise ClusterError("cutting a link needs a cluster started with --netns")
        netns.cut_link(self.net, name, *self._egress_target(to))

    def restore_link(self, name: str) -> None:
        if not self.net:
            raise ClusterError("restoring a link needs a cluster started with --netns")
        netns.restore_link(self.net, name)

    # ---- TLS --------------------------------------------------------------------------------

    def _make_tls(self, pattern: Pattern) -> None:
        make_ca(self.tls)
        for name in [n.name for n in pattern.nodes] + (["nginx"] if pattern.nginx else []):
            server_certificate(self.tls, name, self.address(name))

    # ---- configuration ------------------------------------------------------------------

    def urls(self, pattern: Pattern) -> dict[str, str]:
        """The cluster's public URLs: nginx's when it stands in front, else the first node's.
        "gw" is the first gateway environment's; "gw ENV" and "gw_http ENV" each one's."""
        if pattern.nginx:
            front = self.url_host("nginx")
            cp = f"https://{front}:{self.port('nginx_cp')}"
            km = f"https://{front}:{self.port('nginx_km')}"
            by_environment = {}
            for environment in pattern.gateway_environments():
                key = gateway_port_key(environment)
                by_environment[f"gw {environment}"] = f"https://{front}:{self.port(key)}"
                by_environment[f"gw_http {environment}"] = \
                    f"http://{front}:{self.port(key + '_http')}"
            first = pattern.gateway_environments()[0]
            return {"cp": cp, "km": km, "gw": by_environment[f"gw {first}"],
                    "gw_http": by_environment[f"gw_http {first}"], **by_environment}
        else:
            control = pattern.of_profile(*CONTROL_PROFILES)[0].name
            gateway = pattern.of_profile(*GATEWAY_PROFILES)[0].name
            cp = km = f"https://{self.url_host(control)}:{self.port(control + '_https')}"
            gw = f"https://{self.url_host(gateway)}:{self.port(gateway + '_gateway_https')}"
            gw_http = f"http://{self.url_host(gateway)}:{self.port(gateway + '_gateway_http')}"
        return {"cp": cp, "km": km, "gw": gw, "gw_http": gw_http}

    def database_url(self) -> str:
        return self.postgresql.url(self.state["secrets"]["database_password"])

    def redis_url(self) -> str:
        return f"redis://{self.address('redis')}:{self.port('redis')}"

    def _template_values(self, pattern: Pattern, node: NodeSpec) -> dict[str, str]:
        urls = self.urls(pattern)
        name = node.name
        return {
            "node_id": name,
            "environment": node.environment,
            "host": self.address(name),
            "data_dir": str(self.node_dir(name) / "data"),
            "https_port": str(self.port(f"{name}_https")),
            "gateway_http_port": str(self.port(f"{name}_gateway_http")),
            "gateway_https_port": str(self.port(f"{name}_gateway_https")),
            "gateway_admin_port": str(self.port(f"{name}_gateway_admin")),
            "tls_cert": str(self.tls / f"{name}.crt"),
            "tls_key": str(self.tls / f"{name}.key"),
            "ca_file": str(self.ca_file),
            "database_url": self.database_url() if pattern.postgresql else "",
            "redis_url": self.redis_url() if pattern.redis else "",
            "issuer": urls["km"] + "/oauth2/token",
            "control_plane_url": urls["cp"],
            "key_manager_url": urls["km"],
            # Every traffic manager, directly: a gateway fails over between them itself.
            "traffic_manager_urls": ",".join(
                f"https://{self.url_host(n.name)}:{self.port(n.name + '_https')}"
                for n in pattern.of_profile(*TRAFFIC_PROFILES)),
            "admin_username": ADMIN_USERNAME,
            "admin_password": self.state["secrets"]["admin_password"],
            "internal_password": self.state["secrets"]["internal_password"],
        }

    def _write_configs(self, pattern: Pattern) -> None:
        for node in pattern.nodes:
            folder = self.node_dir(node.name)
            (folder / "data").mkdir(parents=True, exist_ok=True)
            text = fill(node.template, self._template_values(pattern, node))
            path = folder / "portico.toml"
            path.write_text(text)
            os.chmod(path, 0o600)
        if pattern.nginx:
            self._write_nginx_config(pattern)

    def _write_nginx_config(self, pattern: Pattern) -> None:
        folder = self.dir / "nginx"
        for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (folder / "temp" / temp).mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # workers run as nobody and write their temporary files here
            nobody = pwd.getpwnam("nobody")
            for path in [folder / "temp", *(folder / "temp").iterdir()]:
                os.chown(path, nobody.pw_uid, nobody.pw_gid)

        def servers(nodes: list[NodeSpec], port_key: str, backup: list[NodeSpec] = ()) -> str:
            lines = [f"server {self.address(n.name)}:{self.port(n.name + port_key)} "
                     f"max_fails=1 fail_timeout=2s;" for n in nodes]
            lines += [f"server {self.address(n.name)}:{self.port(n.name + port_key)} backup;"
                      for n in backup]
            return "\n        ".join(lines)

        control_planes = pattern.of_profile("control-plane", "all-in-one")
        key_managers = pattern.of_profile("key-manager")
        values = {
            "dir": str(folder),
            "logs": str(self.logs),
            "user": "user nobody nogroup;" if os.geteuid() == 0 else "",
            "host": self.address("nginx"),
            "ca_file": str(self.ca_file),
            "cert": str(self.tls / "nginx.crt"),
            "key": str(self.tls / "nginx.key"),
            "cp_port": str(self.port("nginx_cp")),
            "km_port": str(self.port("nginx_km")),
            "control_plane_servers": servers(control_planes, "_https"),
            # Control planes run a key manager too: they answer when no key manager does.
            "key_manager_servers": servers(key_managers, "_https", control_planes)
            if key_managers else servers(control_planes, "_https"),
            "gateway_clusters": "".join(
                fill(NGINX_GATEWAYS_TEMPLATE, {
                    "environment": environment,
                    "upstream": "gateways" if environment == DEFAULT_ENVIRONMENT
                    else f"gateways_{environment.replace('-', '_')}",
                    "host": self.address("nginx"),
                    "gw_port": str(self.port(gateway_port_key(environment))),
                    "gw_http_port": str(self.port(gateway_port_key(environment) + "_http")),
                    "gateway_servers": servers(
                        [n for n in pattern.of_profile(*GATEWAY_PROFILES)
                         if n.environment == environment], "_gateway_https"),
                }) for environment in pattern.gateway_environments()),
        }
        text = fill(NGINX_TEMPLATE, values)
        (folder / "nginx.conf").write_text(text)

    # ---- gateway environments ---------------------------------------------------------------

    def _put_environments(self, pattern: Pattern) -> None:
        """Creates the pattern's environments through the admin REST API (nginx in front of the
        control planes), or updates them: each one's vhost is the nginx in front of its
        gateways, so the developer portal shows the URLs that reach them."""
        urls = self.urls(pattern)
        existing = {e["name"]: e["id"] for e in
                    self._admin("GET", urls["cp"] + ADMIN_ENVIRONMENTS)["list"]}
        for environment in pattern.environments:
            https_url = urls.get(f"gw {environment.name}")
            if https_url is None:
                continue  # no gateway of this pattern serves it
            http_url = urls[f"gw_http {environment.name}"]
            body = {"name": environment.name, "displayName": environment.display_name,
                    "vhosts": [{"host": self.url_host("nginx"), "httpContext": "",
                                "httpPort": int(http_url.rsplit(":", 1)[1]),
                                "httpsPort": int(https_url.rsplit(":", 1)[1])}]}
            if environment.name in existing:
                self._admin("PUT", f"{urls['cp']}{ADMIN_ENVIRONMENTS}/"
                                   f"{existing[environment.name]}", body)
            else:
                self._admin("POST", urls["cp"] + ADMIN_ENVIRONMENTS, body)

    def _admin(self, method: str, url: str, body: dict | None = None) -> dict:
        password = self.state["secrets"]["admin_password"]
        request = urllib.request.Request(url, method=method, headers={
            "Authorization": "Basic " + base64.b64encode(
                f"{ADMIN_USERNAME}:{password}".encode()).decode(),
            "Content-Type": "application/json"},
            data=json.dumps(body).encode() if body is not None else None)
        context = ssl.create_default_context(cafile=str(self.ca_file))
        try:
            with urllib.request.urlopen(request, timeout=10, context=context) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise ClusterError(f"{method} {url} answered {e.code}: {e.read()[:500]!r}") from None

    # ---- starting and stopping one process ------------------------------------------------

    def start(self, name: str, kind: str | None = None, pattern: Pattern | None = None,
              wait: bool = True) -> None:
        """Starts `name` unless it runs and, with `wait`, waits until it is ready."""
        pattern = pattern or self.pattern()
        kinds = dict(self.members(pattern))
        if name not in kinds:
            raise ClusterError(f"no process {name} in pattern {pattern.name} "
                               f"(processes: {', '.join(kinds)})")
        kind = kind or kinds[name]
        if not self.running(name):
            starter = {"postgresql": self._start_postgresql, "redis": self._start_redis,
                       "nginx": self._start_nginx}.get(kind, self._start_node)
            record = starter(name, kind)
            record["kind"] = kind
            self.processes[name] = record
            self.save()
        if wait:
            self._wait_ready(name, kind)

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Stops `name` (SIGTERM, or `sig`: SIGKILL for a crash) and waits until it is gone."""
        record = self.processes.get(name)
        if not is_running(record):
            return
        if record["kind"] == "postgresql" and sig == signal.SIGTERM:
            self.postgresql.stop()  # returns once the pid file is gone, an instant before
            wait_stopped(record, STOP_TIMEOUT_SECONDS)  # the server itself
        elif sig == signal.SIGTERM:
            terminate(record)
        else:
            os.kill(record["pid"], sig)
            wait_stopped(record, STOP_TIMEOUT_SECONDS)

    @property
    def postgresql(self) -> PostgreSQL:
        return PostgreSQL(self.dir / "postgresql", self.port("postgresql"),
                          self.log_of("postgresql"), self.address("postgresql"),
                          self.net["subnet"] if self.net else None)

    def _start_postgresql(self, _name: str, _kind: str) -> dict:
        return self.postgresql.start(self.state["secrets"]["database_password"])

    def _start_node(self, name: str, profile: str) -> dict:
        config = self.node_dir(name) / "portico.toml"
        inside = netns.exec_prefix(self.net, name) if self.net else []
        return spawn([*inside, self.state["binary"], "serve", "--profile", profile,
                      "--config", str(config)], self.log_of(name), cwd=self.node_dir(name))

    def _start_redis(self, name: str, _kind: str) -> dict:
        folder = self.dir / "redis"
        folder.mkdir(exist_ok=True)
        # Append-only file: a restarted Redis keeps the event log, as one in production
        # would; its loss (a new epoch) is the other case the nodes handle.
        return spawn(["redis-server", "--bind", self.address(name),
                      "--port", str(self.port("redis")),
                      "--dir", str(folder), "--save", "", "--appendonly", "yes",
                      "--daemonize", "no", "--loglevel", "notice",
                      # With --netns it answers the bridge's namespaces: no loopback clients.
                      "--protected-mode", "no" if self.net else "yes"], self.log_of(name))

    def _start_nginx(self, name: str, _kind: str) -> dict:
        folder = self.dir / "nginx"
        return spawn(["nginx", "-e", str(self.log_of("nginx-error")), "-p", str(folder) + "/",
                       "-c", str(folder / "nginx.conf")], self.log_of(name))

    # ---- readiness ------------------------------------------------------------------------

    def _wait_ready(self, name: str, kind: str) -> None:
        record = self.processes[name]
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        last = ""
        while True:
            if not is_running(record):
                raise ClusterError(f"{name} exited during start; {self.log_of(name)}:\n"
                                   f"{log_tail(self.log_of(name))}")
            try:
                last = self._probe(name, kind)
                if not last:
                    return
            except OSError as e:
                last = str(e)
            if time.monotonic() > deadline:
                raise ClusterError(f"{name} not ready within {READY_TIMEOUT_SECONDS} s "
                                   f"({last}); {self.log_of(name)}:\n"
                                   f"{log_tail(self.log_of(name))}")
            time.sleep(0.1)

    def _probe(self, name: str, kind: str) -> str:
        """'' when `name` is ready, else what is missing."""
        if kind == "postgresql":
            return "" if tcp_open(self.port("postgresql"), self.address(name)) \
                else "not accepting connections"
        if kind == "redis":
            with socket.create_connection((self.address(name), self.port("redis")),
                                          timeout=1) as s:
                s.sendall(b"PING\r\n")
                return "" if s.recv(16).startswith(b"+PONG") else "no PONG"
        if kind == "nginx":
            ports = ["nginx_cp", "nginx_km"]
            for environment in self.pattern().gateway_environments():
                ports += [gateway_port_key(environment), gateway_port_key(environment) + "_http"]
            closed = [p for p in ports if not tcp_open(self.port(p), self.address(name))]
            return f"{', '.join(closed)} closed" if closed else ""
        if kind in TRAFFIC_PROFILES:
            status = self._get(f"https://{self.url_host(name)}:{self.port(name + '_https')}"
                               f"/health/ready")
            if status != 200:
                return f"/health/ready answered {status}"
        if kind in CONTROL_PROFILES:
            status = self._get(f"https://{self.url_host(name)}:{self.port(name + '_https')}"
                               f"/oauth2/jwks")
            if status != 200:
                return f"/oauth2/jwks answered {status}"
        if kind in GATEWAY_PROFILES:
            # The admin port listens on the node's loopback: with --netns, its namespace's.
            url = f"http://{HOST}:{self.port(name + '_gateway_admin')}/health/ready"
            status = netns.http_status(self.net, name, url) if self.net else self._get(url)
            if status != 200:
                return f"/health/ready answered {status}"
        return ""

    def _get(self, url: str) -> int:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                return response.status
        except urllib.error.HTTPError as e:
            return e.code
        except urllib.error.URLError as e:
            raise OSError(str(e.reason)) from None

    # ---- endpoints, status, down ----------------------------------------------------------

    def write_endpoints(self, pattern: Pattern | None = None) -> dict[str, str]:
        pattern = pattern or self.pattern()
        urls = self.urls(pattern)
        env = {
            "PORTICO_PATTERN": pattern.name + (f"-{pattern.variant}" if pattern.variant else ""),
            "PORTICO_DIR": str(self.dir),
            "PORTICO_CA": str(self.ca_file),
            "PORTICO_CP": urls["cp"],
            "PORTICO_KM": urls["km"],
            "PORTICO_GW": urls["gw"],
            "PORTICO_GW_HTTP": urls["gw_http"],
        }
        if pattern.nginx:
            for environment in pattern.gateway_environments():
                if environment != DEFAULT_ENVIRONMENT:
                    variable = "PORTICO_GW_" + environment.upper().replace("-", "_")
                    env[variable] = urls[f"gw {environment}"]
                    env[variable + "_HTTP"] = urls[f"gw_http {environment}"]
        env |= {
            "PORTICO_ADMIN": f"{ADMIN_USERNAME}:{self.state['secrets']['admin_password']}",
            "PORTICO_INTERNAL_API": f"gateway:{self.state['secrets']['internal_password']}",
        }
        if pattern.postgresql:
            env["PORTICO_POSTGRESQL"] = self.database_url()
        if pattern.redis:
            env["PORTICO_REDIS"] = self.redis_url()
        # Where backends of APIs listen so that the nodes reach them: with --netns an address
        # outside the cluster that the gateways' egress rules allow.
        env["PORTICO_OUTSIDE_HOST"] = self.net["outside"] if self.net else HOST
        members = self.members(pattern)
        env["PORTICO_NODES"] = " ".join(name for name, _ in members)
        for name, kind in members:
            prefix = f"PORTICO_NODE_{name}_"
            record = self.processes.get(name)
            env[prefix + "KIND"] = kind
            env[prefix + "PID"] = str(record["pid"]) if is_running(record) else ""
            env[prefix + "LOG"] = str(self.log_of(name))
            env[prefix + "HOST"] = self.address(name)
            if self.net and name in self.net["nodes"]:
                env[prefix + "NETNS"] = self.net["nodes"][name]["namespace"]
            if kind in ("postgresql", "redis"):
                env[prefix + "PORT"] = str(self.port(kind))
            if kind == "nginx":
                env[prefix + "PORT"] = str(self.port("nginx_cp"))
            if kind in CONTROL_PROFILES | TRAFFIC_PROFILES:
                env[prefix + "HTTPS"] = str(self.port(name + "_https"))
            if kind in GATEWAY_PROFILES:
                env[prefix + "GATEWAY_HTTPS"] = str(self.port(name + "_gateway_https"))
                env[prefix + "GATEWAY_HTTP"] = str(self.port(name + "_gateway_http"))
                env[prefix + "ADMIN"] = str(self.port(name + "_gateway_admin"))
                if kind == "gateway":
                    env[prefix + "HTTPS"] = env[prefix + "GATEWAY_HTTPS"]
            if kind in CONTROL_PROFILES | GATEWAY_PROFILES | TRAFFIC_PROFILES:
                env[prefix + "CONFIG"] = str(self.node_dir(name) / "portico.toml")
        path = self.dir / "endpoints.env"
        path.write_text("".join(f"{k}={_shell_quote(v)}\n" for k, v in env.items()))
        os.chmod(path, 0o600)
        return env

    def status(self) -> list[dict]:
        rows = []
        for name, kind in self.members(self.pattern()):
            record = self.processes.get(name)
            up = is_running(record)
            rows.append({"name": name, "kind": kind, "pid": record["pid"] if up else None,
                         "up": up})
        return rows

    def down(self, purge: bool = False) -> None:
        """Stops every process this folder started, in the reverse order of start, and
        nothing else: a pid whose start time differs is someone else's. `purge` then
        removes the folder (databases, CA, logs): the next up starts afresh."""
        if "pattern" in self.state:
            for name, _ in reversed(self.members(self.pattern())):
                self.stop(name)
            self.write_endpoints()
        # What a crashed runner may have left too: found by the run's id, not by state.json.
        if shutil.which("ip"):
            netns.destroy(netns.run_id(self.dir))
        if purge and self.dir.is_dir():
            link = self.dir / "postgresql"
            if link.is_symlink():
                shutil.rmtree(link.resolve(), ignore_errors=True)
            shutil.rmtree(self.dir)


def gateway_port_key(environment: str) -> str:
    """The port key of the nginx in front of an environment's gateways ("nginx_gw" for
    Default, as before there were several)."""
    return "nginx_gw" if environment == DEFAULT_ENVIRONMENT else f"nginx_gw_{environment}"


def _shell_quote(value: str) -> str:
    safe = set(string.ascii_letters + string.digits + "@%+=:,./-_")
    return value if value and set(value) <= safe else "'" + value.replace("'", "'\\''") + "'"


def default_binary() -> Path:
    if os.environ.get("PORTICO_BINARY"):
        return Path(os.environ["PORTICO_BINARY"])
    if REPO_BINARY.is_file():
        return REPO_BINARY
    found = shutil.which("portico")
    if found:
        return Path(found)
    raise ClusterError("no portico binary: build it (make build), or set PORTICO_BINARY")


def default_directory(pattern: str, variant: str = "") -> Path:
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"portico-cluster-{os.getuid()}"
    return base / (Path(pattern).name + (f"-{variant}" if variant else ""))

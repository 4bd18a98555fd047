"""Starts a deployment pattern of deploy/patterns/ on this machine: PostgreSQL, Redis and
nginx from Debian, and each Portico node a process on its own loopback ports, with TLS from
a CA generated for the cluster. The command line is deploy/local-cluster; tests import this
module and call up(), down(), status(), start_node() and stop_node().

A run folder holds everything of one cluster:

    state.json        pattern, ports, generated secrets and the processes started (pid and
                      start time, so that a reused pid is never taken for ours)
    endpoints.env     what clients need (docs/deployment.md lists the variables)
    tls/              ca.crt, and a key and certificate per server signed by that CA
    nodes/NAME/       portico.toml (the pattern's template filled in) and data/
    postgresql/       the database cluster (initdb), owned by the postgres user when root
    redis/            Redis's append-only file
    nginx/            nginx.conf, pid and temporary files
    logs/             one log per process

Only the standard library and the Debian commands initdb/pg_ctl/psql, redis-server, nginx
and openssl are used.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parent
PATTERNS_DIR = DEPLOY_DIR / "patterns"
NGINX_TEMPLATE = DEPLOY_DIR / "nginx" / "local-cluster.conf"
REPO_BINARY = DEPLOY_DIR.parent / "build" / "portico"

HOST = "127.0.0.1"
ADMIN_USERNAME = "admin"
DATABASE_NAME = "portico"
DATABASE_USER = "portico"
READY_TIMEOUT_SECONDS = 90
# Above server.drain_timeout_seconds (10 by default) plus the time to close the database.
STOP_TIMEOUT_SECONDS = 30
CERTIFICATE_DAYS = 825

# Profiles with the control plane's HTTPS listener (OAuth, REST) and with a gateway.
CONTROL_PROFILES = {"all-in-one", "control-plane", "key-manager"}
GATEWAY_PROFILES = {"all-in-one", "gateway"}
# Order of start; stopped in reverse. Gateways pull from the control planes through nginx.
START_ORDER = ["postgresql", "redis", "all-in-one", "control-plane", "key-manager", "nginx",
               "gateway"]


class ClusterError(RuntimeError):
    """Something of the cluster did not start, answer or stop; the message says what."""


# ---- the pattern ----------------------------------------------------------------------

@dataclass
class NodeSpec:
    name: str
    profile: str
    template: Path


@dataclass
class Pattern:
    name: str
    variant: str
    folder: Path
    postgresql: bool
    redis: bool
    nginx: bool
    nodes: list[NodeSpec]

    def of_profile(self, *profiles: str) -> list[NodeSpec]:
        return [n for n in self.nodes if n.profile in profiles]


def load_pattern(name: str, variant: str = "") -> Pattern:
    """deploy/patterns/NAME/cluster.toml, or cluster-VARIANT.toml for a variant."""
    folder = Path(name) if "/" in name else PATTERNS_DIR / name
    manifest = folder / (f"cluster-{variant}.toml" if variant else "cluster.toml")
    if not manifest.is_file():
        known = sorted(p.name for p in PATTERNS_DIR.iterdir() if (p / "cluster.toml").is_file())
        raise ClusterError(f"no pattern {manifest} (patterns: {', '.join(known)})")
    spec = tomllib.loads(manifest.read_text())
    nodes = [NodeSpec(n["name"], n["profile"], folder / n["config"]) for n in spec["node"]]
    for node in nodes:
        if node.profile not in CONTROL_PROFILES | GATEWAY_PROFILES:
            raise ClusterError(f"{manifest}: node {node.name}: unknown profile {node.profile}")
    return Pattern(folder.name, variant, folder, spec.get("postgresql", False),
                   spec.get("redis", False), spec.get("nginx", False), nodes)


def default_directory(pattern: str, variant: str = "") -> Path:
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"portico-cluster-{os.getuid()}"
    return base / (Path(pattern).name + (f"-{variant}" if variant else ""))


# ---- processes --------------------------------------------------------------------------

def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks) of a process, None when there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[19])


def process_start_time(pid: int) -> int:
    stat = _proc_stat(pid)
    return stat[1] if stat else 0


def is_running(record: dict | None) -> bool:
    """Whether the process of `record` (pid and start time) still runs. A zombie (dead, not
    yet reaped by its parent: this process, when it started it) counts as stopped."""
    if not record:
        return False
    stat = _proc_stat(record["pid"])
    if stat is None or stat[1] != record["start_time"]:
        return False
    if stat[0] in ("Z", "X"):
        try:
            os.waitpid(record["pid"], os.WNOHANG)
        except ChildProcessError:
            pass
        return False
    return True


def _wait_stopped(record: dict, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(record):
            return True
        time.sleep(0.05)
    return not is_running(record)


def _terminate(record: dict, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout`."""
    if not is_running(record):
        return
    os.kill(record["pid"], signal.SIGTERM)
    if not _wait_stopped(record, timeout):
        os.kill(record["pid"], signal.SIGKILL)
        _wait_stopped(record, 10)


def child_environment() -> dict[str, str]:
    # PORTICO_<SECTION>_<KEY> variables override configuration files: the nodes are
    # configured by their files alone, whatever the caller's shell exports.
    return {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}


def _spawn(command: list[str], log: Path, **kwargs) -> dict:
    with open(log, "ab") as out:
        out.write(f"==== {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} "
                  f"{' '.join(command)}\n".encode())
        out.flush()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                   start_new_session=True, env=child_environment(), **kwargs)
    return {"pid": process.pid, "start_time": process_start_time(process.pid)}


def log_tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def free_ports(count: int, avoid: set[int] = frozenset()) -> list[int]:
    """Ports the kernel picked for sockets bound at once (so that they differ)."""
    sockets, ports = [], []
    try:
        while len(ports) < count:
            s = socket.socket()
            s.bind((HOST, 0))
            sockets.append(s)
            port = s.getsockname()[1]
            if port not in avoid:
                ports.append(port)
        return ports
    finally:
        for s in sockets:
            s.close()


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
            return True
        except OSError:
            return False


def _as_server_user() -> list[str]:
    # initdb and postgres refuse to run as root (scripts/with-postgres does the same).
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _chown_to_server_user(*paths: Path) -> None:
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in paths:
            os.chown(path, user.pw_uid, user.pw_gid)


def _server_user_can_reach(directory: Path) -> bool:
    if os.geteuid() != 0:
        return True
    return subprocess.run([*_as_server_user(), "test", "-x", str(directory)]).returncode == 0


def _postgres_bindir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
                        reverse=True)
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    raise ClusterError("no PostgreSQL server under /usr/lib/postgresql (run scripts/setup)")


# ---- the cluster ------------------------------------------------------------------------

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

    def up(self, pattern_name: str, variant: str = "", binary: str | None = None) -> dict:
        if self.state.get("pattern") and (self.state["pattern"], self.state.get("variant", "")) \
                != (pattern_name, variant):
            raise ClusterError(f"{self.dir} holds pattern {self.state['pattern']} "
                               f"{self.state.get('variant', '')}: down it and remove the folder, "
                               f"or choose another --dir")
        pattern = load_pattern(pattern_name, variant)
        self.state.update(pattern=pattern_name, variant=variant)
        self.state["binary"] = str(Path(binary or self.state.get("binary") or default_binary())
                                   .resolve())
        for folder in (self.dir, self.logs, self.tls, self.dir / "nodes"):
            folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)  # the postgres user walks through it
        members = self.members(pattern)
        if not any(self.running(name) for name, _ in members):
            self._choose_ports(pattern)
        secrets_ = self.state.setdefault("secrets", {})
        secrets_.setdefault("admin_password", secrets.token_hex(12))
        secrets_.setdefault("internal_password", secrets.token_hex(16))
        secrets_.setdefault("database_password", secrets.token_hex(12))
        self.save()
        self._make_tls(pattern)
        self._write_configs(pattern)
        for name, kind in members:
            self.start(name, kind, pattern)
        return self.write_endpoints(pattern)

    def _choose_ports(self, pattern: Pattern) -> None:
        """Keeps the ports of the last run when they are all free (the issuer and the URLs
        in endpoints.env stay the same), else picks new ones."""
        wanted = ["postgresql", "redis", "nginx_cp", "nginx_km", "nginx_gw", "nginx_gw_http"]
        for node in pattern.nodes:
            wanted += [f"{node.name}_https", f"{node.name}_gateway_http",
                       f"{node.name}_gateway_https", f"{node.name}_gateway_admin"]
        old = self.state.get("ports", {})
        if set(wanted) <= set(old) and all(port_is_free(old[k]) for k in wanted):
            return
        self.state["ports"] = dict(zip(wanted, free_ports(len(wanted))))

    def port(self, key: str) -> int:
        return self.state["ports"][key]

    # ---- TLS --------------------------------------------------------------------------------

    def _make_tls(self, pattern: Pattern) -> None:
        key, cert = self.tls / "ca.key", self.ca_file
        if not cert.is_file():
            _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-days", str(CERTIFICATE_DAYS), "-subj",
                     "/CN=Portico local cluster CA", "-keyout", str(key), "-out", str(cert),
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        names = [n.name for n in pattern.nodes] + (["nginx"] if pattern.nginx else [])
        for name in names:
            self._server_certificate(name)

    def _server_certificate(self, name: str) -> None:
        key, cert = self.tls / f"{name}.key", self.tls / f"{name}.crt"
        if cert.is_file() and key.is_file():
            return
        request = self.tls / f"{name}.csr"
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(request),
                 "-addext", f"subjectAltName=IP:{HOST},DNS:localhost,DNS:{name}")
        _openssl("x509", "-req", "-in", str(request), "-CA", str(self.ca_file), "-CAkey",
                 str(self.tls / "ca.key"), "-CAcreateserial", "-days", str(CERTIFICATE_DAYS),
                 "-copy_extensions", "copy", "-extfile", "/dev/stdin", "-out", str(cert),
                 input="basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n")
        request.unlink()
        os.chmod(key, 0o600)

    # ---- configuration ------------------------------------------------------------------

    def urls(self, pattern: Pattern) -> dict[str, str]:
        """The cluster's public URLs: nginx's when it stands in front, else the first node's."""
        if pattern.nginx:
            cp = f"https://localhost:{self.port('nginx_cp')}"
            km = f"https://localhost:{self.port('nginx_km')}"
            gw = f"https://localhost:{self.port('nginx_gw')}"
            gw_http = f"http://localhost:{self.port('nginx_gw_http')}"
        else:
            control = pattern.of_profile(*CONTROL_PROFILES)[0].name
            gateway = pattern.of_profile(*GATEWAY_PROFILES)[0].name
            cp = km = f"https://localhost:{self.port(control + '_https')}"
            gw = f"https://localhost:{self.port(gateway + '_gateway_https')}"
            gw_http = f"http://localhost:{self.port(gateway + '_gateway_http')}"
        return {"cp": cp, "km": km, "gw": gw, "gw_http": gw_http}

    def database_url(self) -> str:
        return (f"postgresql://{DATABASE_USER}:{self.state['secrets']['database_password']}"
                f"@{HOST}:{self.port('postgresql')}/{DATABASE_NAME}")

    def redis_url(self) -> str:
        return f"redis://{HOST}:{self.port('redis')}"

    def _template_values(self, pattern: Pattern, node: NodeSpec) -> dict[str, str]:
        urls = self.urls(pattern)
        name = node.name
        return {
            "node_id": name,
            "host": HOST,
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
            lines = [f"server {HOST}:{self.port(n.name + port_key)} max_fails=1 fail_timeout=2s;"
                     for n in nodes]
            lines += [f"server {HOST}:{self.port(n.name + port_key)} backup;" for n in backup]
            return "\n        ".join(lines)

        control_planes = pattern.of_profile("control-plane", "all-in-one")
        key_managers = pattern.of_profile("key-manager")
        values = {
            "dir": str(folder),
            "logs": str(self.logs),
            "user": "user nobody nogroup;" if os.geteuid() == 0 else "",
            "host": HOST,
            "ca_file": str(self.ca_file),
            "cert": str(self.tls / "nginx.crt"),
            "key": str(self.tls / "nginx.key"),
            "cp_port": str(self.port("nginx_cp")),
            "km_port": str(self.port("nginx_km")),
            "gw_port": str(self.port("nginx_gw")),
            "gw_http_port": str(self.port("nginx_gw_http")),
            "control_plane_servers": servers(control_planes, "_https"),
            # Control planes run a key manager too: they answer when no key manager does.
            "key_manager_servers": servers(key_managers, "_https", control_planes)
            if key_managers else servers(control_planes, "_https"),
            "gateway_servers": servers(pattern.of_profile(*GATEWAY_PROFILES), "_gateway_https"),
        }
        text = fill(NGINX_TEMPLATE, values)
        (folder / "nginx.conf").write_text(text)

    # ---- starting and stopping one process ------------------------------------------------

    def start(self, name: str, kind: str | None = None, pattern: Pattern | None = None) -> None:
        """Starts `name` unless it runs, and waits until it is ready."""
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
            if record is None:  # PostgreSQL: read back from its pid file
                record = self._postgresql_record()
            record["kind"] = kind
            self.processes[name] = record
            self.save()
        self._wait_ready(name, kind)

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Stops `name` (SIGTERM, or `sig`: SIGKILL for a crash) and waits until it is gone."""
        record = self.processes.get(name)
        if not is_running(record):
            return
        if record["kind"] == "postgresql" and sig == signal.SIGTERM:
            self._pg_ctl("stop", "-m", "fast")
        elif sig == signal.SIGTERM:
            _terminate(record)
        else:
            os.kill(record["pid"], sig)
            _wait_stopped(record, STOP_TIMEOUT_SECONDS)

    def _start_node(self, name: str, profile: str) -> dict:
        config = self.node_dir(name) / "portico.toml"
        return _spawn([self.state["binary"], "serve", "--profile", profile,
                       "--config", str(config)], self.log_of(name), cwd=self.node_dir(name))

    def _start_redis(self, name: str, _kind: str) -> dict:
        folder = self.dir / "redis"
        folder.mkdir(exist_ok=True)
        # Append-only file: a restarted Redis keeps the event log, as one in production
        # would; its loss (a new epoch) is the other case the nodes handle.
        return _spawn(["redis-server", "--bind", HOST, "--port", str(self.port("redis")),
                       "--dir", str(folder), "--save", "", "--appendonly", "yes",
                       "--daemonize", "no", "--loglevel", "notice"], self.log_of(name))

    def _start_nginx(self, name: str, _kind: str) -> dict:
        folder = self.dir / "nginx"
        return _spawn(["nginx", "-e", str(self.log_of("nginx-error")), "-p", str(folder) + "/",
                       "-c", str(folder / "nginx.conf")], self.log_of(name))

    # PostgreSQL daemonises itself through pg_ctl; its pid is in postmaster.pid.

    @property
    def _pg_folder(self) -> Path:
        return (self.dir / "postgresql").resolve()

    @property
    def _pg_data(self) -> Path:
        return self._pg_folder / "data"

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [*_as_server_user(), str(_postgres_bindir() / "pg_ctl"), "-D",
                   str(self._pg_data), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                env=child_environment())
        if check and result.returncode != 0:
            raise ClusterError(f"pg_ctl {args[0]} failed: {result.stderr}\n"
                               f"{log_tail(self.log_of('postgresql'))}")
        return result

    def _make_pg_folder(self) -> None:
        """DIR/postgresql, or, when the postgres user cannot reach DIR (a folder under a
        private one, as pytest's are), a link to a folder under /tmp that it can reach."""
        link = self.dir / "postgresql"
        if link.exists():
            return
        if _server_user_can_reach(self.dir):
            link.mkdir()
        else:
            digest = hashlib.sha256(str(self.dir).encode()).hexdigest()[:16]
            real = Path("/tmp") / f"portico-cluster-postgresql-{digest}"
            real.mkdir(mode=0o755, exist_ok=True)
            link.symlink_to(real)
        _chown_to_server_user(self._pg_folder)

    def _start_postgresql(self, name: str, _kind: str) -> None:
        bindir = _postgres_bindir()
        self._make_pg_folder()
        folder = self._pg_folder
        socket_dir = folder / "socket"
        if not (self._pg_data / "PG_VERSION").is_file():
            socket_dir.mkdir(exist_ok=True)
            password_file = folder / "pwfile"
            password_file.write_text(self.state["secrets"]["database_password"] + "\n")
            os.chmod(password_file, 0o600)
            _chown_to_server_user(socket_dir, password_file)
            result = subprocess.run(
                [*_as_server_user(), str(bindir / "initdb"), "-D", str(self._pg_data),
                 "-U", DATABASE_USER, f"--pwfile={password_file}", "--auth-local=trust",
                 "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
                capture_output=True, text=True, env=child_environment())
            password_file.unlink()
            if result.returncode != 0:
                raise ClusterError(f"initdb failed: {result.stdout}{result.stderr}")
        # The server writes its log as the postgres user: in its own folder, linked from logs/.
        log = folder / "server.log"
        log.touch()
        _chown_to_server_user(log)
        if not self.log_of(name).is_symlink():
            self.log_of(name).symlink_to(log)
        # fsync off: a development cluster's data is worthless, and the machine is shared.
        options = (f"-c listen_addresses={HOST} -p {self.port('postgresql')} -k {socket_dir} "
                   f"-c max_connections=300 -c fsync=off -c synchronous_commit=off "
                   f"-c full_page_writes=off")
        self._pg_ctl("-l", str(log), "-w", "-t", "60", "-o", options, "start")
        self._create_database(bindir, socket_dir)
        return None

    def _create_database(self, bindir: Path, socket_dir: Path) -> None:
        def psql(sql: str) -> str:
            result = subprocess.run(
                [*_as_server_user(), str(bindir / "psql"), "-h", str(socket_dir), "-p",
                 str(self.port("postgresql")), "-U", DATABASE_USER, "-d", "postgres", "-qAt",
                 "-v", "ON_ERROR_STOP=1", "-c", sql],
                capture_output=True, text=True, env=child_environment())
            if result.returncode != 0:
                raise ClusterError(f"psql {sql!r}: {result.stderr}")
            return result.stdout.strip()

        if not psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"):
            psql(f"CREATE DATABASE {DATABASE_NAME} OWNER {DATABASE_USER}")

    def _postgresql_record(self) -> dict:
        pid = int((self._pg_data / "postmaster.pid").read_text().split()[0])
        return {"pid": pid, "start_time": process_start_time(pid)}

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
            return "" if _tcp_open(self.port("postgresql")) else "not accepting connections"
        if kind == "redis":
            with socket.create_connection((HOST, self.port("redis")), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return "" if s.recv(16).startswith(b"+PONG") else "no PONG"
        if kind == "nginx":
            ports = ["nginx_cp", "nginx_km", "nginx_gw", "nginx_gw_http"]
            closed = [p for p in ports if not _tcp_open(self.port(p))]
            return f"{', '.join(closed)} closed" if closed else ""
        if kind in CONTROL_PROFILES:
            status = self._get(f"https://localhost:{self.port(name + '_https')}/oauth2/jwks")
            if status != 200:
                return f"/oauth2/jwks answered {status}"
        if kind in GATEWAY_PROFILES:
            status = self._get(f"http://{HOST}:{self.port(name + '_gateway_admin')}"
                               f"/health/ready")
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
            "PORTICO_ADMIN": f"{ADMIN_USERNAME}:{self.state['secrets']['admin_password']}",
            "PORTICO_INTERNAL_API": f"gateway:{self.state['secrets']['internal_password']}",
        }
        if pattern.postgresql:
            env["PORTICO_POSTGRESQL"] = self.database_url()
        if pattern.redis:
            env["PORTICO_REDIS"] = self.redis_url()
        members = self.members(pattern)
        env["PORTICO_NODES"] = " ".join(name for name, _ in members)
        for name, kind in members:
            prefix = f"PORTICO_NODE_{name}_"
            record = self.processes.get(name)
            env[prefix + "KIND"] = kind
            env[prefix + "PID"] = str(record["pid"]) if is_running(record) else ""
            env[prefix + "LOG"] = str(self.log_of(name))
            if kind in ("postgresql", "redis"):
                env[prefix + "PORT"] = str(self.port(kind))
            if kind == "nginx":
                env[prefix + "PORT"] = str(self.port("nginx_cp"))
            if kind in CONTROL_PROFILES:
                env[prefix + "HTTPS"] = str(self.port(name + "_https"))
            if kind in GATEWAY_PROFILES:
                env[prefix + "GATEWAY_HTTPS"] = str(self.port(name + "_gateway_https"))
                env[prefix + "GATEWAY_HTTP"] = str(self.port(name + "_gateway_http"))
                env[prefix + "ADMIN"] = str(self.port(name + "_gateway_admin"))
                if kind == "gateway":
                    env[prefix + "HTTPS"] = env[prefix + "GATEWAY_HTTPS"]
            if kind in CONTROL_PROFILES | GATEWAY_PROFILES:
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
        if purge and self.dir.is_dir():
            link = self.dir / "postgresql"
            if link.is_symlink():
                shutil.rmtree(link.resolve(), ignore_errors=True)
            shutil.rmtree(self.dir)


def fill(template: Path, values: dict[str, str]) -> str:
    """The template's text with every {{name}} replaced by values[name]."""
    def value(match: re.Match) -> str:
        if match.group(1) not in values:
            raise ClusterError(f"{template}: unknown placeholder {match.group(0)}")
        return values[match.group(1)]

    return re.sub(r"\{\{(\w+)\}\}", value, template.read_text())


def _tcp_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def _shell_quote(value: str) -> str:
    safe = set(string.ascii_letters + string.digits + "@%+=:,./-_")
    return value if value and set(value) <= safe else "'" + value.replace("'", "'\\''") + "'"


def _openssl(*args: str, input: str | None = None) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, input=input)
    if result.returncode != 0:
        raise ClusterError(f"openssl {args[0]} failed: {result.stderr}")


def default_binary() -> Path:
    if os.environ.get("PORTICO_BINARY"):
        return Path(os.environ["PORTICO_BINARY"])
    if REPO_BINARY.is_file():
        return REPO_BINARY
    found = shutil.which("portico")
    if found:
        return Path(found)
    raise ClusterError("no portico binary: build it (make build), or set PORTICO_BINARY")


def read_endpoints(path: Path | str) -> dict[str, str]:
    """endpoints.env as a dict (the values as the shell would see them)."""
    import shlex
    env = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = shlex.split(value)[0] if value else ""
    return env


# ---- the functions tests call ---------------------------------------------------------------

def up(pattern: str, directory: Path | str | None = None, *, variant: str = "",
       binary: str | None = None) -> dict[str, str]:
    """Starts the pattern (what does not run yet) and returns endpoints.env as a dict."""
    directory = Path(directory) if directory else default_directory(pattern, variant)
    return Cluster(directory).up(pattern, variant, binary)


def down(directory: Path | str, purge: bool = False) -> None:
    Cluster(directory).down(purge)


def status(directory: Path | str) -> list[dict]:
    return Cluster(directory).status()


def start_node(directory: Path | str, name: str) -> dict[str, str]:
    """Starts one process of the cluster again (after stop_node or a crash), waits until it
    is ready, and returns the updated endpoints (its new pid)."""
    cluster = Cluster(directory)
    cluster.start(name)
    return cluster.write_endpoints()


def stop_node(directory: Path | str, name: str, sig: int = signal.SIGTERM) -> dict[str, str]:
    cluster = Cluster(directory)
    if name not in dict(cluster.members(cluster.pattern())):
        raise ClusterError(f"no process {name} in this cluster")
    cluster.stop(name, sig)
    return cluster.write_endpoints()


# ---- command line ---------------------------------------------------------------------------

USAGE = """usage: local-cluster up PATTERN [--dir DIR] [--variant NAME] [--binary PATH]
       local-cluster down PATTERN [--dir DIR] [--variant NAME] [--purge]
       local-cluster status PATTERN [--dir DIR] [--variant NAME]
       local-cluster start-node|stop-node|kill-node PATTERN NAME [--dir DIR] [--variant NAME]

PATTERN: a folder of deploy/patterns (1-all-in-one, 2-gateway-key-manager, 3-distributed).
DIR defaults to $TMPDIR/portico-cluster-UID/PATTERN[-VARIANT]."""


def main(argv: list[str]) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="local-cluster", usage=USAGE)
    parser.add_argument("command", choices=["up", "down", "status", "start-node", "stop-node",
                                            "kill-node"])
    parser.add_argument("pattern")
    parser.add_argument("name", nargs="?")
    parser.add_argument("--dir")
    parser.add_argument("--variant", default="")
    parser.add_argument("--binary")
    parser.add_argument("--purge", action="store_true",
                        help="down: remove the run folder too (databases, CA, logs)")
    args = parser.parse_args(argv)
    directory = Path(args.dir) if args.dir else default_directory(args.pattern, args.variant)
    needs_name = args.command.endswith("-node")
    if needs_name != bool(args.name):
        parser.error(f"{args.command} takes {'a' if needs_name else 'no'} process NAME")
    try:
        if args.command == "up":
            up(args.pattern, directory, variant=args.variant, binary=args.binary)
            print(directory.resolve() / "endpoints.env")
        elif args.command == "down":
            down(directory, args.purge)
        elif args.command == "status":
            rows = status(directory)
            for row in rows:
                pid = row["pid"] if row["up"] else "-"
                print(f"{row['name']:<12} {row['kind']:<14} {pid!s:<8} "
                      f"{'up' if row['up'] else 'down'}")
            return 0 if all(r["up"] for r in rows) else 3
        elif args.command == "start-node":
            start_node(directory, args.name)
        elif args.command == "stop-node":
            stop_node(directory, args.name)
        else:
            stop_node(directory, args.name, signal.SIGKILL)
    except ClusterError as e:
        print(f"local-cluster: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

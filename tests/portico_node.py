"""A Portico node started as a real process for the end-to-end tests, and the few HTTP
helpers every test module needs (client registration, token requests, JWT verification).

A Node owns a temporary directory: its TOML configuration, its data directory (SQLite
database, generated TLS material) and a log file that receives the process's stdout and
stderr. Failures of start and stop carry the tail of that log.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "e2e-admin-password"
DEFAULT_BINARY = Path(__file__).resolve().parent.parent / "build" / "portico"
START_TIMEOUT_SECONDS = 15
STOP_TIMEOUT_SECONDS = 15

# Every node alive in this test process, so that a failing test can show their logs.
live_nodes: list["Node"] = []


class NodeError(AssertionError):
    """The process did not start, answer or stop as it should; the message has its log."""


def binary_path() -> Path:
    return Path(os.environ.get("PORTICO_BINARY") or DEFAULT_BINARY)


def child_environment() -> dict[str, str]:
    # PORTICO_<SECTION>_<KEY> variables override the configuration file: a stray one in the
    # developer's shell must not change what a test configured.
    return {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}


def free_ports(count: int) -> list[int]:
    """Ports the kernel picked for sockets bound to port 0, all open at once so that they
    differ; released before the node binds them (a small race, acceptable in tests)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    raise TypeError(f"no TOML form for {value!r}")


def render_toml(top: dict[str, Any], sections: dict[str, dict[str, Any]]) -> str:
    lines = [f"{key} = {toml_value(value)}" for key, value in top.items()]
    for section, keys in sections.items():
        lines.append(f"\n[{section}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in keys.items())
    return "\n".join(lines) + "\n"


def create_postgres_database(server_url: str) -> str:
    """A fresh database on the PostgreSQL server of `server_url`; returns its URL."""
    name = "portico_e2e_" + uuid.uuid4().hex[:12]
    psql(server_url, f"CREATE DATABASE {name}")
    parts = urllib.parse.urlsplit(server_url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def drop_postgres_database(server_url: str, database_url: str) -> None:
    name = urllib.parse.urlsplit(database_url).path.lstrip("/")
    psql(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def psql(url: str, command: str) -> str:
    result = subprocess.run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", command],
        capture_output=True, text=True, timeout=30, env=child_environment())
    if result.returncode != 0:
        raise RuntimeError(f"psql {command!r} failed: {result.stderr}")
    return result.stdout


class Node:
    """One `portico serve` process with its own configuration and data directory."""

    def __init__(self, directory: Path, *, database_url: str = "",
                 sections: dict[str, dict[str, Any]] | None = None,
                 admin_password: str = ADMIN_PASSWORD, profile: str = "all-in-one",
                 serve_args: tuple[str, ...] = ()):
        self.directory = Path(directory)
        self.profile = profile
        self.serve_args = serve_args
        self.directory.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.directory / "data"
        self.config_path = self.directory / "portico.toml"
        self.log_path = self.directory / "portico.log"
        self.database_url = database_url
        self.admin_password = admin_password
        (self.https_port, self.http_port, self.gateway_http_port, self.gateway_https_port,
         self.gateway_admin_port) = free_ports(5)
        self.process: subprocess.Popen | None = None
        self.sections: dict[str, dict[str, Any]] = {
            "server": {"host": "127.0.0.1", "https_port": self.https_port,
                       "http_port": self.http_port, "threads": 2},
            "gateway": {"host": "127.0.0.1", "http_port": self.gateway_http_port,
                        "https_port": self.gateway_https_port,
                        "admin_port": self.gateway_admin_port, "threads": 2},
            "admin": {"username": ADMIN_USERNAME, "password": admin_password},
            # The tests' backends listen on 127.0.0.1; tests of the backend address policy
            # set this back to false.
            "security": {"allow_loopback_backends": True},
            "log": {"level": "info"},
        }
        if database_url:
            self.sections["database"] = {"url": database_url}
        self.configure(sections or {})

    def configure(self, sections: dict[str, dict[str, Any]]) -> None:
        """Merges `sections` into the configuration file; a running node sees it on restart."""
        for section, keys in sections.items():
            self.sections.setdefault(section, {}).update(keys)
        self.config_path.write_text(render_toml({"data_dir": str(self.data_dir)}, self.sections))

    # ---- addresses ------------------------------------------------------------------

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_http_port}"

    @property
    def gateway_https_url(self) -> str:
        return f"https://127.0.0.1:{self.gateway_https_port}"

    @property
    def gateway_admin_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_admin_port}"

    @property
    def cert(self) -> str:
        """The self-signed certificate the node generated; pass it as requests' verify=."""
        return str(self.data_dir / "tls" / "server.crt")

    @property
    def ready_probe_url(self) -> str:
        """A gateway of its own has no control-plane listener: it is up once its admin port
        answers (ready needs a configuration, which may legitimately be missing)."""
        if self.profile == "gateway":
            return self.gateway_admin_url + "/health/live"
        return self.http_url + "/oauth2/jwks"

    @property
    def token_url(self) -> str:
        return self.https_url + "/oauth2/token"

    @property
    def admin_auth(self) -> tuple[str, str]:
        return (ADMIN_USERNAME, self.admin_password)

    # ---- process --------------------------------------------------------------------

    def start(self) -> "Node":
        assert self.process is None, "node already running"
        log = open(self.log_path, "ab")
        log.write(f"==== portico serve --profile {self.profile} --config {self.config_path}\n"
                  .encode())
        log.flush()
        self.process = subprocess.Popen(
            [str(binary_path()), "serve", "--profile", self.profile, "--config",
             str(self.config_path), *self.serve_args],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=child_environment())
        log.close()
        live_nodes.append(self)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            code = self.process.poll()
            if code is not None:
                self._forget()
                raise NodeError(f"portico serve exited with {code} during start\n{self.log_tail()}")
            try:
                probe = self.request("GET", self.ready_probe_url, timeout=1)
                if probe.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.process.kill()
                self.process.wait()
                self._forget()
                raise NodeError(f"portico serve did not answer GET {self.ready_probe_url} within "
                                f"{START_TIMEOUT_SECONDS} s\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self, signal_number: int = signal.SIGTERM) -> int:
        """SIGTERM (or `signal_number`), then the process must exit with 0 within
        STOP_TIMEOUT_SECONDS."""
        assert self.process is not None, "node not running"
        process = self.process
        process.send_signal(signal_number)
        try:
            code = process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            self._forget()
            raise NodeError(f"portico serve did not exit within {STOP_TIMEOUT_SECONDS} s of "
                            f"signal {signal_number}\n{self.log_tail()}")
        self._forget()
        if code != 0:
            raise NodeError(f"portico serve exited with {code} after signal {signal_number}\n"
                            f"{self.log_tail()}")
        return code

    def restart(self) -> "Node":
        """Stops and starts again with the same configuration and data directory."""
        self.stop()
        return self.start()

    def kill(self) -> None:
        """For teardown after a failure: no assertion on the exit code."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self._forget()

    @property
    def running(self) -> bool:
        return self.process is not None

    def cli(self, *args: str, config: bool = True) -> subprocess.CompletedProcess:
        """Runs `portico ARGS [--config FILE]` to completion."""
        command = [str(binary_path()), *args]
        if config:
            command += ["--config", str(self.config_path)]
        return subprocess.run(command, capture_output=True, text=True, timeout=60,
                              env=child_environment())

    def log_tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _forget(self) -> None:
        self.process = None
        if self in live_nodes:
            live_nodes.remove(self)

    # ---- stored state -----------------------------------------------------------------

    def count(self, table: str, where: str = "TRUE") -> int:
        """SELECT COUNT(*) on the node's database (SQLite file or PostgreSQL), read-only:
        for assertions that a refused request stored nothing."""
        query = f"SELECT COUNT(*) FROM {table} WHERE {where}"
        if self.database_url:
            return int(psql(self.database_url, query).strip())
        uri = f"file:{self.data_dir / 'portico.db'}?mode=ro"
        with sqlite3.connect(uri, uri=True, timeout=10) as db:
            return db.execute(query).fetchone()[0]

    # ---- HTTP -----------------------------------------------------------------------

    def session(self, s: requests.Session | None = None) -> requests.Session:
        """A requests session (or `s`, e.g. an Authlib OAuth2Session) that trusts the node's
        certificate. trust_env is off: requests lets REQUESTS_CA_BUNDLE override a
        session's verify=, and proxies from the environment have no business here."""
        s = s if s is not None else requests.Session()
        s.verify = self.cert
        s.trust_env = False
        return s

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        """One request on a fresh session (safe to call from several threads at once)."""
        kwargs.setdefault("timeout", 10)
        kwargs.setdefault("allow_redirects", False)
        with self.session() as s:
            return s.request(method, url, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        """GET over HTTPS; `path` is relative to the node."""
        return self.request("GET", self.https_url + path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        """POST over HTTPS; redirects are not followed, so a test sees the 302 itself."""
        return self.request("POST", self.https_url + path, **kwargs)

    def metadata(self) -> dict:
        response = self.get("/.well-known/oauth-authorization-server")
        assert response.status_code == 200, response.text
        return response.json()

    def jwks(self) -> dict:
        response = self.get("/oauth2/jwks")
        assert response.status_code == 200, response.text
        return response.json()

    def register_client(self, name: str | None = None, **fields) -> dict:
        """DCR as the administrator; returns the response body. Fields use the reference's
        names (grantType, callbackUrl, tokenType) or RFC 7591's."""
        body = {"clientName": name or "e2e-" + uuid.uuid4().hex[:8]}
        body.setdefault("grantType", "client_credentials password refresh_token "
                                     "authorization_code")
        body.setdefault("callbackUrl", "https://app.example/cb")
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        response = self.post("/client-registration/v0.17/register", json=body,
                             auth=self.admin_auth)
        assert response.status_code == 200, response.text
        return response.json()

    def token(self, client: dict | None, form: dict, **kwargs) -> requests.Response:
        """POST /oauth2/token with the client's credentials in HTTP Basic (when it has a
        secret) or its client_id in the body (public client)."""
        data = dict(form)
        if client is not None:
            if client.get("clientSecret"):
                kwargs.setdefault("auth", (client["clientId"], client["clientSecret"]))
            else:
                data.setdefault("client_id", client["clientId"])
        return self.post("/oauth2/token", data=data, **kwargs)

    def introspect(self, token: str) -> dict:
        response = self.post("/oauth2/introspect", data={"token": token}, auth=self.admin_auth)
        assert response.status_code == 200, response.text
        return response.json()

    def revoke(self, client: dict, token: str) -> requests.Response:
        return self.post("/oauth2/revoke", data={"token": token},
                         auth=(client["clientId"], client["clientSecret"]))

    def verify_jwt(self, token: str, *, audience: str | None = None, leeway: int = 0) -> dict:
        """Verifies signature, issuer, audience and expiry with the node's JWKS (fetched
        with requests, since PyJWKClient's urllib would not trust the self-signed cert).
        `leeway`: seconds of expiry to overlook (a token of a 1 s lifetime)."""
        header = jwt.get_unverified_header(token)
        keys = {k["kid"]: k for k in self.jwks()["keys"]}
        assert header.get("kid") in keys, f"kid {header.get('kid')} not in the JWKS"
        jwk = keys[header["kid"]]
        key = jwt.PyJWK(jwk)
        options = {"require": ["exp", "iat", "iss", "sub", "jti"]}
        if audience is None:
            options["verify_aud"] = False
        return jwt.decode(token, key.key, algorithms=[jwk["alg"]], audience=audience,
                          issuer=self.metadata()["issuer"], options=options, leeway=leeway)


def is_jwt(token: str) -> bool:
    parts = token.split(".")
    if len(parts) != 3:
        return False
    try:
        json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except ValueError:
        return False
    return True

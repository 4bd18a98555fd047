"""PostgreSQL from Debian for a local cluster: a database cluster made by initdb in the run
folder, started by pg_ctl on its own port (it daemonises itself: its pid is read from
postmaster.pid), with one database and one user for the nodes. As root it runs as the
postgres user, since it refuses root (scripts/with-postgres does the same)."""

from __future__ import annotations

import os
import pwd
import subprocess
import tempfile
from pathlib import Path

from .processes import HOST, ClusterError, child_environment, log_tail, process_start_time

DATABASE_NAME = "portico"
DATABASE_USER = "portico"


def _as_server_user() -> list[str]:
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


def _bindir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
                        reverse=True)
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    raise ClusterError("no PostgreSQL server under /usr/lib/postgresql (run scripts/setup)")


class PostgreSQL:
    """The server of `link` (DIR/postgresql) on host:port, its log linked from `log`;
    `clients` the network its clients connect from besides loopback (with --netns)."""

    def __init__(self, link: Path, port: int, log: Path, host: str = HOST,
                 clients: str | None = None):
        self.link = link
        self.port = port
        self.log = log
        self.host = host
        self.clients = clients

    @property
    def folder(self) -> Path:
        return self.link.resolve()

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        return self.folder / "socket"

    def url(self, password: str) -> str:
        return f"postgresql://{DATABASE_USER}:{password}@{self.host}:{self.port}/{DATABASE_NAME}"

    def start(self, password: str) -> dict:
        """initdb on first use, start, create the database; returns the server's record."""
        self._make_folder()
        if not (self.data / "PG_VERSION").is_file():
            self._initdb(password)
        self._allow_clients()
        # The server writes its log as the postgres user: in its own folder, linked from logs/.
        server_log = self.folder / "server.log"
        server_log.touch()
        _chown_to_server_user(server_log)
        if not self.log.is_symlink():
            self.log.symlink_to(server_log)
        # fsync off: a development cluster's data is worthless, and the machine is shared.
        options = (f"-c listen_addresses={self.host} -p {self.port} -k {self.socket_dir} "
                   f"-c max_connections=300 -c fsync=off -c synchronous_commit=off "
                   f"-c full_page_writes=off")
        self._pg_ctl("-l", str(server_log), "-w", "-t", "60", "-o", options, "start")
        if not self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"):
            self._psql(f"CREATE DATABASE {DATABASE_NAME} OWNER {DATABASE_USER}")
        return self.record()

    def stop(self) -> None:
        """A fast shutdown: sessions are closed, nothing is lost."""
        self._pg_ctl("-m", "fast", "stop")

    def record(self) -> dict:
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        return {"pid": pid, "start_time": process_start_time(pid)}

    def _make_folder(self) -> None:
        """DIR/postgresql, or, when the postgres user cannot reach DIR (a folder under a
        private one, as pytest's are), a link to a folder under /tmp that it can reach."""
        if self.link.exists():
            return
        if _server_user_can_reach(self.link.parent):
            self.link.mkdir()
        else:
            # A new folder each time: one left behind by a run folder removed without
            # `down --purge` holds another cluster's database and password.
            real = Path(tempfile.mkdtemp(prefix="portico-cluster-postgresql-", dir="/tmp"))
            real.chmod(0o755)
            self.link.symlink_to(real)
        _chown_to_server_user(self.folder)

    def _initdb(self, password: str) -> None:
        self.socket_dir.mkdir(exist_ok=True)
        password_file = self.folder / "pwfile"
        password_file.write_text(password + "\n")
        os.chmod(password_file, 0o600)
        _chown_to_server_user(self.socket_dir, password_file)
        result = subprocess.run(
            [*_as_server_user(), str(_bindir() / "initdb"), "-D", str(self.data),
             "-U", DATABASE_USER, f"--pwfile={password_file}", "--auth-local=trust",
             "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
            capture_output=True, text=True, env=child_environment())
        password_file.unlink()
        if result.returncode != 0:
            raise ClusterError(f"initdb failed: {result.stdout}{result.stderr}")

    def _allow_clients(self) -> None:
        """A pg_hba.conf line for `clients` (initdb allows loopback only)."""
        if not self.clients:
            return
        hba = self.data / "pg_hba.conf"
        line = f"host all {DATABASE_USER} {self.clients} scram-sha-256"
        if line not in hba.read_text().splitlines():
            with open(hba, "a") as out:
                out.write(f"# local-cluster --netns: the nodes' namespaces\n{line}\n")

    def _pg_ctl(self, *args: str) -> None:
        result = subprocess.run(
            [*_as_server_user(), str(_bindir() / "pg_ctl"), "-D", str(self.data), *args],
            capture_output=True, text=True, timeout=120, env=child_environment())
        if result.returncode != 0:
            raise ClusterError(f"pg_ctl {args[-1]} failed: {result.stderr}\n{log_tail(self.log)}")

    def _psql(self, sql: str) -> str:
        result = subprocess.run(
            [*_as_server_user(), str(_bindir() / "psql"), "-h", str(self.socket_dir), "-p",
             str(self.port), "-U", DATABASE_USER, "-d", "postgres", "-qAt", "-v",
             "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, env=child_environment())
        if result.returncode != 0:
            raise ClusterError(f"psql {sql!r}: {result.stderr}")
        return result.stdout.strip()

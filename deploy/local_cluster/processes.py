"""The processes of a local cluster: started detached, each known by its pid and start
time (so that a pid reused by another process is never taken for ours), stopped with
SIGTERM then SIGKILL; and free loopback ports for them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

HOST = "127.0.0.1"
# Above server.drain_timeout_seconds (10 by default) plus the time to close the database.
STOP_TIMEOUT_SECONDS = 30


class ClusterError(RuntimeError):
    """Something of the cluster did not start, answer or stop; the message says what."""


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


def wait_stopped(record: dict, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(record):
            return True
        time.sleep(0.05)
    return not is_running(record)


def terminate(record: dict, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout`."""
    if not is_running(record):
        return
    os.kill(record["pid"], signal.SIGTERM)
    if not wait_stopped(record, timeout):
        os.kill(record["pid"], signal.SIGKILL)
        wait_stopped(record, 10)


def child_environment() -> dict[str, str]:
    # PORTICO_<SECTION>_<KEY> variables override configuration files: the nodes are
    # configured by their files alone, whatever the caller's shell exports.
    return {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}


def spawn(command: list[str], log: Path, **kwargs) -> dict:
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


def free_ports(count: int) -> list[int]:
    """Ports the kernel picked for sockets bound at once (so that they differ)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
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


def tcp_open(port: int, host: str = HOST) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False

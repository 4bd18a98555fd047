"""wrk runs for a benchmark: keep-alive load, requests/s and the latency distribution."""
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass

from cpu import pinned

UNITS_US = {"us": 1.0, "ms": 1000.0, "s": 1_000_000.0, "m": 60_000_000.0}


@dataclass
class WrkResult:
    rps: float
    requests: int
    p50_us: float
    p99_us: float
    errors: str  # "" when every request got a 2xx and no socket error happened


def latency_us(text):
    """'123.45us', '1.20ms', '2.00s' -> microseconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(m.group(1)) * UNITS_US[m.group(2)]


def parse(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    dist = re.search(r"Latency Distribution(.*?)\n\s*\d+ requests in", out, re.S).group(1)
    p50 = latency_us(re.search(r"50%\s+(\S+)", dist).group(1))
    p99 = latency_us(re.search(r"99%\s+(\S+)", dist).group(1))
    errors = []
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors.append(f"{m.group(1)} non-2xx responses")
    m = re.search(r"Socket errors: (.*)", out)
    if m:
        errors.append("socket errors: " + m.group(1))
    return WrkResult(rps, requests, p50, p99, "; ".join(errors))


def seconds(duration):
    """wrk's duration ("15s", "2m") in seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    return float(duration[:-1]) * units[duration[-1]] if duration[-1] in units else float(duration)


def run(url, connections, duration, cpu=None, headers=(), timeout="5s", pause_ms=None):
    """One wrk run with a single thread; raises when any request failed. `pause_ms`: each
    connection waits that long after a response before its next request (wrk's delay()), an
    offered load below saturation; latencies are measured without the pause."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}", f"--timeout={timeout}",
           "--latency"]
    for h in headers:
        cmd += ["-H", h]
    script = None
    if pause_ms is not None:
        fd, script = tempfile.mkstemp(suffix=".lua", prefix="wrk-pause-")
        with os.fdopen(fd, "w") as f:
            f.write(f"function delay()\n  return {int(pause_ms)}\nend\n")
        cmd += ["-s", script]
    cmd.append(url)
    try:
        out = subprocess.run(pinned(cmd, cpu), capture_output=True, text=True,
                             check=True).stdout
    finally:
        if script:
            os.unlink(script)
    result = parse(out)
    if result.errors:
        raise RuntimeError(f"wrk {url}: {result.errors}\n{out}")
    return result

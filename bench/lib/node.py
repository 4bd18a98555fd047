"""Starts a throwaway Portico node for a benchmark: free ports, its own data directory."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BenchNode:
    def __init__(self, binary, threads=1, extra_toml="", cpu=None):
        self.binary = os.path.abspath(binary)
        self.dir = tempfile.mkdtemp(prefix="portico-bench-")
        self.http_port = free_port()
        self.https_port = free_port()
        self.config = os.path.join(self.dir, "portico.toml")
        with open(self.config, "w") as f:
            f.write(
                f'data_dir = "{self.dir}/data"\n'
                f"[server]\nhost = \"127.0.0.1\"\nhttp_port = {self.http_port}\n"
                f"https_port = {self.https_port}\nthreads = {threads}\n"
                f'[log]\nlevel = "warn"\n{extra_toml}'
            )
        self.cpu = cpu
        self.proc = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.http_port}"

    def start(self):
        """Starts the node; returns seconds from exec to the first answered request."""
        cmd = [self.binary, "serve", "--config", self.config]
        if self.cpu is not None:
            cmd = ["taskset", "-c", str(self.cpu)] + cmd
        began = time.monotonic()
        self.proc = subprocess.Popen(cmd, stderr=open(os.path.join(self.dir, "stderr"), "w"))
        while True:
            try:
                with urllib.request.urlopen(self.base + "/oauth2/jwks", timeout=1) as r:
                    if r.status == 200:
                        return time.monotonic() - began
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("portico exited: " + open(os.path.join(self.dir, "stderr")).read())
            if time.monotonic() - began > 30:
                raise RuntimeError("portico did not become ready in 30 s")
            time.sleep(0.002)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

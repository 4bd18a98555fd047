"""nginx started by a benchmark: its own configuration in a temporary directory, free ports,
pinned to a CPU; never the system's nginx service.

Two roles, both `worker_processes 1` with access logs off and keep-alive without a request
limit (nginx's default closes a client connection after 1000 requests, which would make wrk
reconnect): a backend that answers a small JSON body itself, and a plain reverse proxy to that
backend through an `upstream` block with idle keep-alive connections.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

from cpu import pinned
from node import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BODY = '{"status":"ok","service":"bench-backend","items":[1,2,3]}'


class Nginx:
    def __init__(self, name, http_block, port, cpu=None, env=None):
        self.name = name
        self.port = port
        self.cpu = cpu
        self.env = env
        self.dir = tempfile.mkdtemp(prefix=f"bench-nginx-{name}-")
        self.conf = os.path.join(self.dir, "nginx.conf")
        d = self.dir
        with open(self.conf, "w") as f:
            f.write(f"daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\n"
                    f"error_log {d}/error.log warn;\n"
                    "events { worker_connections 4096; multi_accept on; }\n"
                    "http {\n  access_log off;\n"
                    "  keepalive_requests 100000000;\n  keepalive_timeout 300s;\n"
                    f"  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n"
                    f"  fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi;"
                    f" scgi_temp_path {d}/scgi;\n"
                    f"{http_block}}}\n")
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, probe_path="/"):
        cmd = pinned([NGINX, "-c", self.conf, "-p", self.dir], self.cpu)
        env = dict(os.environ, **(self.env or {}))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=env)
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(self.url + probe_path, timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nginx {self.name} did not start: " + self.error_log())
            time.sleep(0.01)

    def error_log(self):
        try:
            return open(os.path.join(self.dir, "error.log")).read()[-2000:]
        except OSError:
            return "(no error log)"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # fast shutdown; the master stops its worker
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def backend(cpu):
    """The small fast backend every run talks to, directly or through a proxy."""
    port = free_port()
    block = (f"  server {{\n    listen 127.0.0.1:{port} backlog=4096;\n"
             "    location / {\n      default_type application/json;\n"
             f"      return 200 '{BODY}';\n    }}\n  }}\n")
    return Nginx("backend", block, port, cpu)


def reverse_proxy(backend_port, cpu, env=None):
    """nginx as a plain reverse proxy: one worker, keep-alive to the backend."""
    port = free_port()
    block = ("  upstream backend {\n"
             f"    server 127.0.0.1:{backend_port};\n"
             "    keepalive 64;\n    keepalive_requests 100000000;\n  }\n"
             f"  server {{\n    listen 127.0.0.1:{port} backlog=4096;\n"
             "    location / {\n      proxy_pass http://backend;\n"
             "      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n"
             "    }\n  }\n")
    return Nginx("proxy", block, port, cpu, env)

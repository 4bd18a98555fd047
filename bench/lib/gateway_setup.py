"""A Portico all-in-one node set up for bench/gateway through the REST APIs only.

The node runs one gateway I/O thread and one control-plane I/O thread ([server] threads = 1);
the whole process is pinned to one CPU. During a measurement the control plane only idles
(no REST calls are made, the gateway's snapshot is already built), so the core is the
gateway's. Analytics keeps its default: on.

What is set up, as an operator and a developer would: a subscription policy with a limit that
is really counted (100,000,000 requests a minute, stopOnQuotaReach: the reference's
"Unlimited" skips counting and would spare the throttling path its work), an API whose
endpoint is the benchmark's backend, published and deployed to the gateway's environment, an
application subscribed to it on that policy, its production keys and a client_credentials
JWT access token.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import requests

from cpu import pinned
from node import free_port

ADMIN = ("admin", "bench-admin-password")
PUB = "/api/am/publisher/v4"
DEV = "/api/am/devportal/v3"
ADM = "/api/am/admin/v4"
POLICY = "Bench100MPerMin"
API_CONTEXT = "/benchgw"
API_VERSION = "1.0.0"
RESOURCE = "/items"
API_PATH = f"{API_CONTEXT}/{API_VERSION}{RESOURCE}"  # what clients call on the gateway


class GatewayNode:
    """`portico serve` with its own configuration, data directory and free ports."""

    def __init__(self, binary, cpu=None, env=None):
        self.binary = os.path.abspath(binary)
        self.cpu = cpu
        self.env = env or {}
        self.dir = tempfile.mkdtemp(prefix="portico-bench-gw-")
        self.http_port, self.https_port = free_port(), free_port()
        self.gw_http_port, self.gw_admin_port = free_port(), free_port()
        self.config = os.path.join(self.dir, "portico.toml")
        with open(self.config, "w") as f:
            f.write(f'data_dir = "{self.dir}/data"\n'
                    "[server]\nhost = \"127.0.0.1\"\n"
                    f"http_port = {self.http_port}\nhttps_port = {self.https_port}\nthreads = 1\n"
                    f'[admin]\nusername = "{ADMIN[0]}"\npassword = "{ADMIN[1]}"\n'
                    "[gateway]\nhost = \"127.0.0.1\"\n"
                    f"http_port = {self.gw_http_port}\nhttps_port = -1\n"
                    f"admin_port = {self.gw_admin_port}\nthreads = 1\n"
                    "[analytics]\nenabled = true\n"
                    # the benchmark's backend listens on loopback
                    "[security]\nallow_loopback_backends = true\n"
                    '[log]\nlevel = "warn"\n')
        self.proc = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def gateway(self):
        return f"http://127.0.0.1:{self.gw_http_port}"

    @property
    def gateway_admin(self):
        return f"http://127.0.0.1:{self.gw_admin_port}"

    def stderr_tail(self):
        try:
            return open(os.path.join(self.dir, "stderr")).read()[-3000:]
        except OSError:
            return "(no output)"

    def start(self):
        cmd = pinned([self.binary, "serve", "--config", self.config], self.cpu)
        # PORTICO_* variables would override the file; the benchmark's configuration is the file.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
        env.update(self.env)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, env=env,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "stderr"), "w"))
        s = session()
        self.wait_until(lambda: s.get(self.base + "/oauth2/jwks", timeout=1).ok,
                        "the control plane to answer")
        return self

    def wait_until(self, ready, what, seconds=30):
        deadline = time.monotonic() + seconds
        while True:
            try:
                if ready():
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"portico exited waiting for {what}:\n{self.stderr_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}:\n{self.stderr_tail()}")
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def session(auth=None):
    s = requests.Session()
    s.trust_env = False  # no proxies from the environment between the benchmark and its node
    s.auth = auth
    return s


def check(response, status=(200, 201)):
    if response.status_code not in status:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.status_code} "
                           f"{response.text[:500]}")
    return response.json() if response.content else None


def set_up(node, backend_url):
    """Policy, API, deployment, application, subscription, keys; returns the access token."""
    s = session(ADMIN)
    base = node.base
    check(s.post(base + ADM + "/throttling/policies/subscription", json={
        "policyName": POLICY, "description": "bench/gateway: high, but counted",
        "defaultLimit": {"type": "REQUESTCOUNTLIMIT",
                         "requestCount": {"timeUnit": "min", "unitTime": 1,
                                          "requestCount": 100_000_000}},
        "rateLimitCount": 0, "stopOnQuotaReach": True}))
    api = check(s.post(base + PUB + "/apis", json={
        "name": "BenchGateway", "context": API_CONTEXT, "version": API_VERSION,
        "policies": [POLICY],
        "endpointConfig": {"endpoint_type": "http",
                           "production_endpoints": {"url": backend_url},
                           "sandbox_endpoints": {"url": backend_url}},
        "operations": [{"target": RESOURCE, "verb": "GET"}]}))
    rev = check(s.post(base + PUB + f"/apis/{api['id']}/revisions", json={"description": "bench"}))
    check(s.post(base + PUB + f"/apis/{api['id']}/deploy-revision",
                 params={"revisionId": rev["id"]},
                 json=[{"name": "Default", "vhost": "localhost", "displayOnDevportal": True}]))
    check(s.post(base + PUB + "/apis/change-lifecycle",
                 params={"apiId": api["id"], "action": "Publish"}))
    app = check(s.post(base + DEV + "/applications",
                       json={"name": "bench-gateway-app", "throttlingPolicy": "Unlimited"}))
    check(s.post(base + DEV + "/subscriptions", json={
        "applicationId": app["applicationId"], "apiId": api["id"], "throttlingPolicy": POLICY}))
    keys = check(s.post(base + DEV + f"/applications/{app['applicationId']}/generate-keys", json={
        "keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials"],
        "keyManager": "Resident Key Manager", "validityTime": "86400"}))
    token = keys["token"]["accessToken"]
    wait_for_gateway(node, token)
    return token


def wait_for_gateway(node, token):
    """Until /health/ready on the admin port and the API answers 200 through the gateway (the
    deployment and the subscription reach the gateway's snapshot asynchronously)."""
    s = session()
    node.wait_until(lambda: s.get(node.gateway_admin + "/health/ready", timeout=1).ok,
                    "the gateway's /health/ready")
    url = node.gateway + API_PATH
    headers = {"Authorization": "Bearer " + token}
    last = []

    def probe():
        r = s.get(url, headers=headers, timeout=2)
        last[:] = [f"{r.status_code} {r.text[:300]}"]
        return r.status_code == 200

    try:
        node.wait_until(probe, "a 200 from the API through the gateway")
    except RuntimeError as e:
        raise RuntimeError(f"{e}\nlast answer: {last[0] if last else '(none)'}") from None
    refused = s.get(url, timeout=2)
    if refused.status_code != 401:
        raise RuntimeError(f"the API answered {refused.status_code} without a token: "
                           "authentication is not on")


def metrics(node):
    """The gateway's Prometheus counters, summed over labels: {name: value}."""
    out = {}
    for line in session().get(node.gateway_admin + "/metrics", timeout=5).text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            name = name.split("{", 1)[0]
            out[name] = out.get(name, 0) + float(value)
    return out

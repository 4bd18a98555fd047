"""Helpers of the gateway's end-to-end tests: real backends (tests/gateway_backend.py, one
process each so that a test can kill one), APIs published and deployed through the Publisher
REST API, developers with applications, subscriptions and tokens through the Developer
Portal, and calls through the gateway's own port."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from devportal_support import Developer, sign_up
from portico_node import Node

PUBLISHER = "/api/am/publisher/v4"
ADMIN = "/api/am/admin/v4"
BACKEND_SCRIPT = Path(__file__).resolve().parent / "gateway_backend.py"


class Backend:
    """One backend process on a free port."""

    def __init__(self, name: str = "backend", host: str = "127.0.0.1"):
        self.name = name
        self.host = host
        self.process = subprocess.Popen(
            [sys.executable, str(BACKEND_SCRIPT), "--port", "0", "--name", name, "--host", host],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("listening "), line
        self.port = int(line.split()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def close(self) -> None:
        self.kill()


def publisher(node: Node, method: str, path: str, **kwargs) -> requests.Response:
    return node.request(method, node.https_url + PUBLISHER + path, auth=node.admin_auth,
                        **kwargs)


def admin(node: Node, method: str, path: str, **kwargs) -> requests.Response:
    return node.request(method, node.https_url + ADMIN + path, auth=node.admin_auth, **kwargs)


def endpoint_config(production: str | list | None, sandbox: str | list | None = None,
                    endpoint_type: str = "http", **extra) -> dict:
    def one(url):
        return {"url": url} if isinstance(url, str) else url

    config: dict = {"endpoint_type": endpoint_type}
    for key, value in (("production_endpoints", production), ("sandbox_endpoints", sandbox)):
        if value is None:
            continue
        config[key] = [one(u) for u in value] if isinstance(value, list) else one(value)
    config.update(extra)
    return config


def deploy(node: Node, api_id: str, environment: str = "Default") -> str:
    revision = publisher(node, "POST", f"/apis/{api_id}/revisions", json={"description": "r"})
    assert revision.status_code == 201, revision.text
    revision_id = revision.json()["id"]
    deployed = publisher(node, "POST", f"/apis/{api_id}/deploy-revision",
                         params={"revisionId": revision_id},
                         json=[{"name": environment, "displayOnDevportal": True}])
    assert deployed.status_code == 201, deployed.text
    return revision_id


def lifecycle(node: Node, api_id: str, action: str) -> None:
    response = publisher(node, "POST", "/apis/change-lifecycle",
                         params={"apiId": api_id, "action": action})
    assert response.status_code == 200, response.text


def publish_api(node: Node, backend_url: str | None = None, *, endpoint: dict | None = None,
                publish: bool = True, **fields) -> dict:
    """Creates an API whose endpoint is `backend_url` (or `endpoint`), deploys a revision to
    the Default environment and publishes it."""
    name = fields.pop("name", "Gw" + uuid.uuid4().hex[:8])
    body = {"name": name, "context": "/" + name.lower(), "version": "1.0.0",
            "endpointConfig": endpoint or endpoint_config(backend_url),
            "policies": ["Gold", "Unlimited"]}
    body.update(fields)
    created = publisher(node, "POST", "/apis", json=body)
    assert created.status_code == 201, created.text
    api = created.json()
    deploy(node, api["id"])
    if publish:
        lifecycle(node, api["id"], "Publish")
    return api


def update_api(node: Node, api: dict, **fields) -> dict:
    """Changes fields of the API and deploys a new revision with them."""
    current = publisher(node, "GET", f"/apis/{api['id']}").json()
    current.update(fields)
    updated = publisher(node, "PUT", f"/apis/{api['id']}", json=current)
    assert updated.status_code == 200, updated.text
    deploy(node, api["id"])
    return updated.json()


class Caller:
    """A developer's application subscribed to APIs, with tokens for it."""

    def __init__(self, node: Node, app_policy: str = "Unlimited", username: str | None = None):
        self.node = node
        self.developer: Developer = sign_up(node, username)
        self.app = self.developer.create_app(policy=app_policy)
        self.keys: dict[str, dict] = {}

    def subscribe(self, api: dict, tier: str = "Unlimited") -> dict:
        response = self.developer.subscribe(self.app["applicationId"], api["id"], tier)
        assert response.status_code == 201, response.text
        return response.json()

    def credentials(self, key_type: str = "PRODUCTION", grants=None) -> tuple[str, str]:
        if key_type not in self.keys:
            fields = {}
            if grants:
                fields["grantTypesToBeSupported"] = grants
            self.keys[key_type] = self.developer.generate_keys(
                self.app["applicationId"], key_type, **fields)
        keys = self.keys[key_type]
        return keys["consumerKey"], keys["consumerSecret"]

    def token(self, key_type: str = "PRODUCTION", scope: str = "", grant: dict | None = None,
              grants=None) -> str:
        client_id, secret = self.credentials(key_type, grants)
        data = grant or {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        response = self.node.request("POST", self.node.token_url, data=data,
                                     auth=(client_id, secret))
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def api_key(self, key_type: str = "PRODUCTION", **body) -> str:
        response = self.developer.post(
            f"/applications/{self.app['applicationId']}/api-keys/{key_type}/generate",
            json=body or {"validityPeriod": 3600})
        assert response.status_code == 200, response.text
        return response.json()["apikey"]


def gateway(node: Node, method: str, path: str, token: str | None = None,
            **kwargs) -> requests.Response:
    """A call through the gateway's plain HTTP port."""
    headers = kwargs.pop("headers", {}) or {}
    if token:
        headers = {"Authorization": f"Bearer {token}", **headers}
    kwargs.setdefault("timeout", 30)
    return requests.request(method, node.gateway_url + path, headers=headers, **kwargs)


def wait_for(condition, timeout: float = 10.0, interval: float = 0.05):
    """Polls until `condition()` returns a truthy value, which it returns. Configuration
    reaches the gateway through events a few tens of milliseconds after the REST call."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last: {last!r})")


def wait_for_status(node: Node, method: str, path: str, status: int, token: str | None = None,
                    timeout: float = 10.0, **kwargs) -> requests.Response:
    def attempt():
        response = gateway(node, method, path, token, **kwargs)
        # A Response is falsy for 4xx and 5xx: wrap it.
        return [response] if response.status_code == status else None

    try:
        return wait_for(attempt, timeout)[0]
    except AssertionError:
        response = gateway(node, method, path, token, **kwargs)
        raise AssertionError(f"{method} {path}: expected {status}, got "
                             f"{response.status_code} {response.text[:300]}")


def error_code(response: requests.Response) -> int:
    return int(response.json()["code"])


# ---- throttling, deny policies and concurrency (tests/test_gateway_throttling.py,
# tests/test_gateway_mediation.py) ------------------------------------------------------

def request_limit(count: int, unit: str = "min", unit_time: int = 1) -> dict:
    """An Admin v4 REQUESTCOUNTLIMIT."""
    return {"type": "REQUESTCOUNTLIMIT",
            "requestCount": {"timeUnit": unit, "unitTime": unit_time, "requestCount": count}}


def bandwidth_limit(amount: int, data_unit: str = "KB", unit: str = "min") -> dict:
    """An Admin v4 BANDWIDTHLIMIT."""
    return {"type": "BANDWIDTHLIMIT", "bandwidth": {
        "timeUnit": unit, "unitTime": 1, "dataAmount": amount, "dataUnit": data_unit}}


def create_policy(node: Node, level: str, limit: dict, **fields) -> dict:
    """A throttling policy of `level` (subscription, application, advanced) through the
    Admin v4 API, with a fresh name; returns its representation."""
    body = {"policyName": fields.pop("policyName", "T" + uuid.uuid4().hex[:10]),
            "defaultLimit": limit}
    body.update(fields)
    response = admin(node, "POST", f"/throttling/policies/{level}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def create_deny_policy(node: Node, condition_type: str, value) -> dict:
    response = admin(node, "POST", "/throttling/deny-policies",
                     json={"conditionType": condition_type, "conditionValue": value})
    assert response.status_code == 201, response.text
    return response.json()


def set_deny_policy(node: Node, policy: dict, enabled: bool) -> None:
    response = admin(node, "PATCH", f"/throttling/deny-policy/{policy['conditionId']}",
                     json={"conditionStatus": enabled})
    assert response.status_code == 200, response.text


def delete_deny_policy(node: Node, policy: dict) -> None:
    response = admin(node, "DELETE", f"/throttling/deny-policy/{policy['conditionId']}")
    assert response.status_code == 200, response.text


def wait_for_window(window: float = 60.0, margin: float = 8.0) -> float:
    """Sleeps, when fewer than `margin` seconds remain in the current epoch-aligned window,
    into the next one; returns the start (Unix seconds) of the window the caller is in."""
    remaining = window - time.time() % window
    if remaining < margin:
        time.sleep(remaining + 0.05)
    return time.time() // window * window


def timed(call, *args, **kwargs) -> tuple[requests.Response, float, float]:
    """The response of `call(*args, **kwargs)` with the wall-clock time before and after."""
    start = time.time()
    response = call(*args, **kwargs)
    return response, start, time.time()


def counted_in_window(calls: list[tuple[float, float]], window: float = 60.0,
                      margin: float = 8.0) -> int:
    """Waits as wait_for_window does, then says how many of the admitted `calls` (their
    start and end times) count in the current window. A call that straddles the window's
    start is undecidable: then waits for the next window, where none count."""
    while True:
        start = wait_for_window(window, margin)
        if not any(s < start <= e for s, e in calls):
            return sum(1 for s, _ in calls if s >= start)
        time.sleep(start + window - time.time() + 0.05)


def concurrently(count: int, call, workers: int = 8) -> list[requests.Response]:
    """`count` calls of `call()` from a pool of `workers` threads, their responses in order."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def retry_after(response: requests.Response) -> int:
    """The Retry-After of a refusal, as integer seconds (asserting its form)."""
    value = response.headers.get("Retry-After")
    assert value is not None, f"no Retry-After on {response.status_code} {response.text}"
    assert value.isdigit(), f"Retry-After {value!r} is not integer seconds"
    return int(value)


class _SourceAddressAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, source_ip: str):
        self.source_ip = source_ip
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source_ip, 0)
        super().init_poolmanager(*args, **kwargs)


def gateway_from(source_ip: str, node: Node, method: str, path: str, token: str | None = None,
                 **kwargs) -> requests.Response:
    """A call through the gateway from another loopback address (127.0.0.0/8 is all
    local on Linux), so that IP conditions can tell callers apart."""
    headers = kwargs.pop("headers", {}) or {}
    if token:
        headers = {"Authorization": f"Bearer {token}", **headers}
    kwargs.setdefault("timeout", 30)
    with requests.Session() as s:
        s.trust_env = False
        s.mount("http://", _SourceAddressAdapter(source_ip))
        return s.request(method, node.gateway_url + path, headers=headers, **kwargs)


# ---- shared fixtures (a test module imports the ones it uses) ----------------------------

def backend_fixture(name: str):
    """A module-scoped fixture: one recording Backend called `name` for the module's tests,
    closed after them."""
    @pytest.fixture(scope="module")
    def backend():
        b = Backend(name)
        yield b
        b.close()
    return backend


@pytest.fixture(scope="module")
def caller(node):
    """One signed-up developer with an application, for the module's tests."""
    return Caller(node)


@pytest.fixture(scope="module")
def token(caller):
    return caller.token()

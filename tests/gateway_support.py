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

import requests

from devportal_support import Developer, sign_up
from portico_node import Node

PUBLISHER = "/api/am/publisher/v4"
ADMIN = "/api/am/admin/v4"
BACKEND_SCRIPT = Path(__file__).resolve().parent / "gateway_backend.py"


class Backend:
    """One backend process on a free port."""

    def __init__(self, name: str = "backend"):
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, str(BACKEND_SCRIPT), "--port", "0", "--name", name],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("listening "), line
        self.port = int(line.split()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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

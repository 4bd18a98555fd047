"""Helpers of the Publisher's end-to-end tests (tests/test_publisher_*.py): REST calls as the
administrator or as users created through SCIM, APIs created through the publisher, and the
rows of other components (applications, subscriptions) written straight into the database."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import requests

import portico_node
from portico_node import Node

BASE = "/api/am/publisher/v4"
DATA = Path(__file__).resolve().parent / "data" / "openapi"
PASSWORD = "user-password-1"


def new_name(prefix: str = "api") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def call(node: Node, method: str, path: str, auth=None, **kwargs) -> requests.Response:
    """A publisher request over HTTPS as the administrator, unless `auth` says otherwise
    (auth=() sends no credentials)."""
    if auth is None:
        auth = node.admin_auth
    if auth == ():
        auth = None
    return node.request(method, node.https_url + BASE + path, auth=auth, **kwargs)


def create_user(node: Node, roles: list[str]) -> tuple[str, str]:
    """A user with `roles`, created through SCIM; returns HTTP Basic credentials."""
    username = new_name("user")
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": username,
            "password": PASSWORD, "roles": [{"value": r} for r in roles]}
    response = node.request("POST", node.https_url + "/scim2/Users", json=body,
                            auth=node.admin_auth)
    assert response.status_code == 201, response.text
    return (username, PASSWORD)


def api_body(**fields) -> dict:
    name = fields.pop("name", new_name())
    body = {"name": name, "context": "/" + name.lower(), "version": "1.0.0",
            "endpointConfig": {"endpoint_type": "http",
                               "production_endpoints": {"url": "https://backend.example/v1"}},
            "policies": ["Gold", "Unlimited"]}
    body.update(fields)
    return body


def create_api(node: Node, auth=None, **fields) -> dict:
    response = call(node, "POST", "/apis", auth=auth, json=api_body(**fields))
    assert response.status_code == 201, response.text
    return response.json()


def change_lifecycle(node: Node, api_id: str, action: str, checklist: str | None = None,
                     auth=None) -> requests.Response:
    params = {"apiId": api_id, "action": action}
    if checklist is not None:
        params["lifecycleChecklist"] = checklist
    return call(node, "POST", "/apis/change-lifecycle", auth=auth, params=params)


def assert_error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    body = response.json()
    # Authentication failures carry the key manager's codes (900901, 900902).
    assert body["code"] == status or status == 401, body
    assert "message" in body, body
    return body


def execute(node: Node, *statements: str) -> None:
    """Writes to the node's database (SQLite file or PostgreSQL) in one transaction."""
    if node.database_url:
        portico_node.psql(node.database_url, "BEGIN; " + "; ".join(statements) + "; COMMIT")
        return
    with sqlite3.connect(node.data_dir / "portico.db", timeout=10) as db:
        for statement in statements:
            db.execute(statement)


def insert_subscription(node: Node, api_id: str, status: str = "UNBLOCKED") -> str:
    """An application and its subscription to `api_id`, as the developer portal stores them."""
    app_id, sub_id = str(uuid.uuid4()), str(uuid.uuid4())
    execute(node,
            "INSERT INTO applications (id, name, owner, throttling_policy, token_type, status, "
            f"document, created_time, updated_time) VALUES ('{app_id}', '{new_name('app')}', "
            "'dev1', 'Unlimited', 'JWT', 'APPROVED', '{\"description\": \"an app\"}', 1, 1)",
            "INSERT INTO subscriptions (id, application_id, api_id, throttling_policy, status, "
            f"created_time, updated_time) VALUES ('{sub_id}', '{app_id}', '{api_id}', 'Gold', "
            f"'{status}', 1, 1)")
    return sub_id


def multipart(fields: dict[str, str | tuple]) -> dict:
    """requests' `files=` for multipart/form-data: plain values become fields."""
    return {k: (None, v) if isinstance(v, str) else v for k, v in fields.items()}


def import_openapi(node: Node, definition: str, filename: str = "api.yaml",
                   auth=None, **properties) -> requests.Response:
    files = {"file": (filename, definition.encode())}
    if properties:
        files["additionalProperties"] = (None, json.dumps(properties))
    return call(node, "POST", "/apis/import-openapi", auth=auth, files=files)

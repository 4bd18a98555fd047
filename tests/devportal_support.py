"""Helpers of the Developer Portal's end-to-end tests: signing developers up, calling
/api/am/devportal/v3 as them, and placing APIs in the catalog.

Until the publisher's REST API can publish, `insert_api` writes an API's rows straight
into the node's database, exactly as the schema (0002_control_plane.sql) defines them.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid

import requests

import portico_node
from portico_node import Node

DEVPORTAL = "/api/am/devportal/v3"
SIGNUP = "/api/identity/user/v1.0/me"
PASSWORD = "dev-password-1"


def signup_body(username: str, password: str = PASSWORD, **user) -> dict:
    body = {"username": username, "realm": "PRIMARY", "password": password,
            "claims": [{"uri": "http://wso2.org/claims/givenname", "value": username}]}
    body.update(user)
    return {"user": body, "properties": []}


class Developer:
    """A signed-up user calling the developer portal with HTTP Basic."""

    def __init__(self, node: Node, username: str, password: str = PASSWORD):
        self.node = node
        self.username = username
        self.password = password

    @property
    def auth(self) -> tuple[str, str]:
        return (self.username, self.password)

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("auth", self.auth)
        return self.node.request(method, self.node.https_url + DEVPORTAL + path, **kwargs)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, **kw):
        return self.call("POST", path, **kw)

    def put(self, path, **kw):
        return self.call("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def create_app(self, name: str | None = None, policy: str = "Unlimited", **fields) -> dict:
        body = {"name": name or "app-" + uuid.uuid4().hex[:8], "throttlingPolicy": policy}
        body.update(fields)
        response = self.post("/applications", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def generate_keys(self, app_id: str, key_type: str = "PRODUCTION", **fields) -> dict:
        body = {"keyType": key_type, "grantTypesToBeSupported": ["client_credentials"],
                "keyManager": "Resident Key Manager", "validityTime": "3600"}
        body.update(fields)
        response = self.post(f"/applications/{app_id}/generate-keys", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def subscribe(self, app_id: str, api_id: str, tier: str = "Gold") -> requests.Response:
        return self.post("/subscriptions", json={"applicationId": app_id, "apiId": api_id,
                                                 "throttlingPolicy": tier})


def sign_up(node: Node, username: str | None = None) -> Developer:
    username = username or "dev" + uuid.uuid4().hex[:8]
    response = node.post(SIGNUP, json=signup_body(username))
    assert response.status_code == 201, response.text
    return Developer(node, username)


def sql_literal(value) -> str:
    if isinstance(value, (int, bool)):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def execute(node: Node, statements: list[str]) -> None:
    """Writes to the node's database (SQLite file or PostgreSQL) in one transaction."""
    if node.database_url:
        portico_node.psql(node.database_url, "BEGIN; " + "; ".join(statements) + "; COMMIT;")
        return
    with sqlite3.connect(node.data_dir / "portico.db", timeout=10) as db:
        for statement in statements:
            db.execute(statement)


def insert_api(node: Node, name: str | None = None, *, status: str = "PUBLISHED",
               visibility: str = "PUBLIC", visible_roles: list[str] | None = None,
               tiers: tuple[str, ...] = ("Gold", "Unlimited"), tags: tuple[str, ...] = (),
               description: str = "", version: str = "1.0.0", openapi: str = "") -> str:
    """An API as the publisher stores it; returns its id."""
    api_id = str(uuid.uuid4())
    name = name or "api" + uuid.uuid4().hex[:8]
    context = "/" + name.lower()
    document = {"id": api_id, "name": name, "version": version, "context": context,
                "provider": "admin", "lifeCycleStatus": status, "type": "HTTP",
                "transport": ["http", "https"], "tags": list(tags), "policies": list(tiers),
                "visibility": visibility, "visibleRoles": visible_roles or [],
                "description": description}
    now = int(time.time())
    values = [api_id, name, version, context, "admin", status, visibility, 0, description,
              json.dumps(document), openapi, "", "", now, now]
    statements = ["INSERT INTO apis (id, name, version, context, provider, lifecycle_status, "
                  "visibility, is_default_version, description, document, openapi, "
                  "thumbnail_type, thumbnail, created_time, updated_time) VALUES (" +
                  ", ".join(sql_literal(v) for v in values) + ")"]
    statements += [f"INSERT INTO api_tags (api_id, tag) VALUES ({sql_literal(api_id)}, "
                   f"{sql_literal(t)})" for t in tags]
    statements += [f"INSERT INTO api_subscription_policies (api_id, policy) VALUES "
                   f"({sql_literal(api_id)}, {sql_literal(t)})" for t in tiers]
    execute(node, statements)
    return api_id


def error_body(response: requests.Response) -> dict:
    body = response.json()
    assert set(body) >= {"code", "message"}, body
    # Authentication and scope refusals carry the key manager's codes (900901, 900902,
    # 900910); every other refusal uses the HTTP status as its code.
    if response.status_code in (401, 403) and body["code"] in (900901, 900902, 900910):
        return body
    assert body["code"] == response.status_code, body
    return body

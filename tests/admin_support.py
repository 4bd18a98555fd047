"""Helpers of the Admin component's end-to-end tests (tests/test_admin_*.py): REST calls as
the administrator, users created through SCIM, and rows written straight into the node's
database for what other components (publisher, developer portal) would normally store."""

from __future__ import annotations

import sqlite3
import uuid

import portico_node
from portico_node import Node

ADMIN_BASE = "/api/am/admin/v4"
INTERNAL_USER = "gateway"
INTERNAL_PASSWORD = "e2e-internal-secret"


def call(node: Node, method: str, path: str, auth=None, **kwargs):
    """A request to the node over HTTPS, as the administrator unless `auth` says otherwise
    (pass auth=() for no credentials)."""
    if auth is None:
        auth = node.admin_auth
    if auth == ():
        auth = None
    return node.request(method, node.https_url + path, auth=auth, **kwargs)


def admin(node: Node, method: str, path: str, **kwargs):
    return call(node, method, ADMIN_BASE + path, **kwargs)


def execute(node: Node, *statements: str) -> None:
    """Writes to the node's database (SQLite file or PostgreSQL) in one transaction."""
    if node.database_url:
        portico_node.psql(node.database_url, "BEGIN; " + "; ".join(statements) + "; COMMIT")
        return
    with sqlite3.connect(node.data_dir / "portico.db", timeout=10) as db:
        for statement in statements:
            db.execute(statement)


def new_name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def create_user(node: Node, roles: list[str], password: str = "user-password-1") -> dict:
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": new_name("user"), "password": password,
            "roles": [{"value": r} for r in roles]}
    response = call(node, "POST", "/scim2/Users", json=body)
    assert response.status_code == 201, response.text
    user = response.json()
    user["password"] = password
    return user


def insert_api(node: Node, document: str = "{}", offered: tuple[str, ...] = ()) -> str:
    api_id = str(uuid.uuid4())
    name = new_name("api")
    statements = [
        "INSERT INTO apis (id, name, version, context, provider, lifecycle_status, visibility, "
        "is_default_version, description, document, openapi, thumbnail_type, thumbnail, "
        f"created_time, updated_time) VALUES ('{api_id}', '{name}', '1.0.0', '/{name}', "
        f"'admin', 'PUBLISHED', 'PUBLIC', 1, '', '{document}', '', '', '', 1, 1)"]
    for policy in offered:
        statements.append("INSERT INTO api_subscription_policies (api_id, policy) VALUES "
                          f"('{api_id}', '{policy}')")
    execute(node, *statements)
    return api_id


def insert_application(node: Node, policy: str = "Unlimited") -> str:
    app_id = str(uuid.uuid4())
    execute(node, "INSERT INTO applications (id, name, owner, throttling_policy, token_type, "
                  "status, document, created_time, updated_time) VALUES "
                  f"('{app_id}', '{new_name('app')}', 'admin', '{policy}', 'JWT', 'APPROVED', "
                  "'{}', 1, 1)")
    return app_id


def subscription_statement(app_id: str, api_id: str, policy: str) -> str:
    return ("INSERT INTO subscriptions (id, application_id, api_id, throttling_policy, status, "
            "created_time, updated_time) VALUES "
            f"('{uuid.uuid4()}', '{app_id}', '{api_id}', '{policy}', 'UNBLOCKED', 1, 1)")


def request_count_limit(count: int, unit: str = "min") -> dict:
    return {"type": "REQUESTCOUNTLIMIT",
            "requestCount": {"timeUnit": unit, "unitTime": 1, "requestCount": count}}

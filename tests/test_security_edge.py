"""The node's own defences (docs/security.md, "The node: listeners, key material, browsers"):
file modes and private keys at rest, the default administrator and the cleartext listener,
content served to browsers, and cross-site requests."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import uuid
from pathlib import Path

import pytest
import requests

from devportal_support import insert_api
from portico_node import ADMIN_USERNAME, Node, NodeError
from publisher_support import BASE as PUBLISHER, call, change_lifecycle, create_api

DEVPORTAL = "/api/am/devportal/v3"
KEK = "an operator's key-encryption secret"
SEALED_PREFIX = "portico-sealed:v1:"
SANDBOX = "default-src 'none'; sandbox"
SVG_WITH_SCRIPT = (b'<svg xmlns="http://www.w3.org/2000/svg">'
                   b'<script>alert(document.domain)</script></svg>')
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


class HttpsOnlyNode(Node):
    """A node whose configuration has no cleartext control-plane port (the default): it is
    probed and called over HTTPS only."""

    def __init__(self, directory: Path, **kwargs):
        super().__init__(directory, **kwargs)
        del self.sections["server"]["http_port"]
        self.configure({})

    @property
    def http_url(self) -> str:
        return self.https_url

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        # The start probe runs before the node has generated the certificate it trusts.
        if not Path(self.cert).exists():
            raise requests.ConnectionError("no certificate generated yet")
        return super().request(method, url, **kwargs)


@pytest.fixture
def new_node(tmp_path):
    """Builds (not starts) HTTPS-only nodes in fresh directories; kills what is left."""
    made: list[Node] = []

    def make(**kwargs) -> Node:
        node = HttpsOnlyNode(tmp_path / f"node-{uuid.uuid4().hex[:6]}", **kwargs)
        made.append(node)
        return node

    yield make
    for node in made:
        if node.running:
            node.kill()


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def loose_modes(data_dir: Path) -> list[str]:
    """Every entry of the data directory (itself included) that others could read."""
    found = []
    for path in [data_dir, *data_dir.rglob("*")]:
        if path.is_symlink():
            continue
        expected = 0o700 if path.is_dir() else 0o600
        if mode(path) != expected:
            found.append(f"{path.relative_to(data_dir.parent)} {oct(mode(path))}")
    return found


def client_token(node: Node) -> tuple[str, str]:
    client = node.register_client(grantType="client_credentials")
    response = node.token(client, {"grant_type": "client_credentials"})
    assert response.status_code == 200, response.text
    return response.json()["access_token"], client["clientId"]


def stored_private_keys(node: Node) -> list[str]:
    with sqlite3.connect(f"file:{node.data_dir / 'portico.db'}?mode=ro", uri=True) as db:
        return [row[0] for row in db.execute("SELECT private_pem FROM signing_keys")]


def start_refused(node: Node) -> str:
    """Starts `node`, which must exit non-zero before serving; returns its log."""
    with pytest.raises(NodeError) as refused:
        node.start()
    assert "exited with" in str(refused.value), str(refused.value)
    assert "exited with 0" not in str(refused.value)
    return node.log_path.read_text()


# ---- key material (item 6) ------------------------------------------------------------------

def test_data_directory_is_0700_and_every_file_in_it_0600(new_node):
    node = new_node(sections={"gateway": {"backend_jwt": True}})
    node.configure({"analytics": {"file": str(node.data_dir / "analytics.jsonl")}})
    node.start()
    client_token(node)  # writes to the database (and its WAL)
    node.stop()
    names = {p.name for p in node.data_dir.rglob("*")}
    assert {"portico.db", "server.key", "server.crt", "backend-jwt-key.pem"} <= names, names
    assert loose_modes(node.data_dir) == []


def test_an_existing_readable_data_directory_is_tightened_at_start(new_node):
    node = new_node()
    node.start()
    node.stop()
    for path in [node.data_dir, *node.data_dir.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    node.start()
    assert loose_modes(node.data_dir) == []


def test_private_keys_are_sealed_at_rest_and_tokens_verify_after_restart(new_node):
    node = new_node(sections={"security": {"key_encryption_key": KEK},
                              "gateway": {"backend_jwt": True}})
    node.start()
    token, _ = client_token(node)
    keys = stored_private_keys(node)
    assert keys and all(k.startswith(SEALED_PREFIX) and "PRIVATE KEY" not in k for k in keys)
    for key_file in [node.data_dir / "tls" / "server.key", node.data_dir / "backend-jwt-key.pem"]:
        text = key_file.read_text()
        assert text.startswith(SEALED_PREFIX) and "PRIVATE KEY" not in text, key_file

    node.restart()
    assert node.verify_jwt(token)["iss"]
    assert node.introspect(token)["active"] is True
    client_token(node)


def test_keys_stored_in_the_clear_are_sealed_once_a_key_is_configured(new_node):
    node = new_node()
    node.start()
    token, _ = client_token(node)
    assert all(k.startswith("-----BEGIN") for k in stored_private_keys(node))
    node.stop()

    node.configure({"security": {"key_encryption_key": KEK}})
    node.start()
    assert all(k.startswith(SEALED_PREFIX) for k in stored_private_keys(node))
    assert (node.data_dir / "tls" / "server.key").read_text().startswith(SEALED_PREFIX)
    assert node.verify_jwt(token)["iss"]


def test_signing_keys_are_sealed_in_place_on_every_backend(launcher):
    node = launcher.new()
    token, _ = client_token(node)
    node.stop()
    node.configure({"security": {"key_encryption_key": KEK}})
    node.start()
    assert node.count("signing_keys", f"private_pem NOT LIKE '{SEALED_PREFIX}%'") == 0
    assert node.count("signing_keys", f"private_pem LIKE '{SEALED_PREFIX}%'") >= 1
    assert node.verify_jwt(token)["iss"]
    node.restart()
    client_token(node)


def test_a_wrong_key_encryption_key_refuses_to_start(new_node):
    node = new_node(sections={"security": {"key_encryption_key": KEK}})
    node.start()
    node.stop()
    node.configure({"security": {"key_encryption_key": "not the same secret"}})
    log = start_refused(node)
    assert "key_encryption_key" in log.splitlines()[-1], log[-2000:]


# ---- the default administrator and the cleartext listener (item 7) -------------------------

def default_admin_warnings(node: Node) -> int:
    return node.log_path.read_text().count("has the default password 'admin'")


def test_default_admin_on_all_interfaces_is_refused(new_node):
    node = new_node(admin_password="admin")
    node.configure({"server": {"host": "0.0.0.0"}})
    log = start_refused(node)
    last = log.splitlines()[-1]
    assert "default password" in last and "allow_default_admin" in last, last


def test_default_admin_on_all_interfaces_when_allowed_starts_and_warns_every_time(new_node):
    node = new_node(admin_password="admin")
    node.configure({"server": {"host": "0.0.0.0"},
                    "security": {"allow_default_admin": True}})
    node.start()
    assert default_admin_warnings(node) == 1
    node.restart()
    assert default_admin_warnings(node) == 2


def test_default_admin_on_loopback_starts_and_warns_every_time(new_node):
    node = new_node(admin_password="admin")
    node.start()
    assert node.get("/scim2/Users", auth=("admin", "admin")).status_code == 200
    node.restart()
    assert default_admin_warnings(node) == 2


def test_a_changed_admin_password_is_not_the_default_even_if_the_config_says_admin(new_node):
    node = new_node(admin_password="admin")
    node.start()
    me = node.get("/scim2/Users", auth=("admin", "admin"),
                  params={"filter": f'userName eq "{ADMIN_USERNAME}"'}).json()["Resources"][0]
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations": [{"op": "replace", "value": {"password": "a-new-admin-password"}}]}
    response = node.request("PATCH", node.https_url + f"/scim2/Users/{me['id']}", json=patch,
                            auth=("admin", "admin"))
    assert response.status_code == 200, response.text
    node.stop()
    node.configure({"server": {"host": "0.0.0.0"}})
    node.start()
    assert default_admin_warnings(node) == 1  # the first start only


def listening_ports(pid: int) -> set[int]:
    """TCP ports the process listens on (from /proc: its socket inodes in LISTEN state)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_no_cleartext_control_plane_listener_by_default(new_node):
    node = new_node()
    node.start()
    assert listening_ports(node.process.pid) == {
        node.https_port, node.gateway_http_port, node.gateway_https_port,
        node.gateway_admin_port}


# ---- content served to browsers (item 4 of the issue) ---------------------------------------

def assert_sandboxed(response: requests.Response, disposition: str):
    assert response.status_code == 200, response.text
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Content-Security-Policy") == SANDBOX
    assert response.headers.get("Content-Disposition", "").startswith(disposition), \
        response.headers.get("Content-Disposition")


@pytest.fixture(scope="module")
def published(sqlite_node):
    """A published API with an SVG thumbnail carrying script, an inline document, an HTML
    file document and a definition, all uploaded through the publisher."""
    api_id = insert_api(sqlite_node, openapi=json.dumps(
        {"openapi": "3.0.1", "info": {"title": "<script>x</script>", "version": "1"},
         "paths": {}}))
    assert call(sqlite_node, "PUT", f"/apis/{api_id}/thumbnail",
                files={"file": ("t.svg", SVG_WITH_SCRIPT, "image/svg+xml")}).status_code == 200
    docs = {}
    for source in ("INLINE", "FILE"):
        body = {"name": f"doc-{source}", "type": "HOWTO", "sourceType": source,
                "visibility": "API_LEVEL", "inlineContent": "<script>alert(1)</script>"}
        created = call(sqlite_node, "POST", f"/apis/{api_id}/documents", json=body)
        assert created.status_code == 201, created.text
        docs[source] = created.json()["documentId"]
    uploaded = call(sqlite_node, "POST", f"/apis/{api_id}/documents/{docs['FILE']}/content",
                    files={"file": ("page.html", b"<script>alert(1)</script>", "text/html")})
    assert uploaded.status_code == 201, uploaded.text
    return {"id": api_id, "docs": docs}


def test_devportal_serves_an_svg_thumbnail_anonymously_only_sandboxed(sqlite_node, published):
    response = sqlite_node.get(f"{DEVPORTAL}/apis/{published['id']}/thumbnail")
    assert response.content == SVG_WITH_SCRIPT
    assert_sandboxed(response, "inline")


def test_publisher_thumbnail_is_sandboxed(sqlite_node, published):
    assert_sandboxed(call(sqlite_node, "GET", f"/apis/{published['id']}/thumbnail"), "inline")


@pytest.mark.parametrize("source", ["INLINE", "FILE"])
def test_document_content_is_a_sandboxed_attachment(sqlite_node, published, source):
    path = f"/apis/{published['id']}/documents/{published['docs'][source]}/content"
    assert_sandboxed(call(sqlite_node, "GET", path), "attachment")
    portal = sqlite_node.get(DEVPORTAL + path)
    assert_sandboxed(portal, "attachment")
    assert portal.content == b"<script>alert(1)</script>"


def test_definitions_are_sandboxed_attachments(sqlite_node, published):
    assert_sandboxed(call(sqlite_node, "GET", f"/apis/{published['id']}/swagger"), "attachment")
    assert_sandboxed(sqlite_node.get(f"{DEVPORTAL}/apis/{published['id']}/swagger"),
                     "attachment")


# ---- cross-site requests (item 9 of the issue) -----------------------------------------------

def scim_user_body(username: str) -> str:
    return json.dumps({"schemas": [SCIM_USER], "userName": username,
                       "password": "a-cross-site-password", "roles": [{"value": "admin"}]})


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          None])
def test_a_json_route_refuses_a_body_that_is_not_declared_json(sqlite_node, content_type):
    username = "csrf" + uuid.uuid4().hex[:8]
    headers = {"Origin": "https://evil.example"}
    if content_type:
        headers["Content-Type"] = content_type
    response = sqlite_node.post("/scim2/Users", data=scim_user_body(username).encode(),
                                headers=headers, auth=sqlite_node.admin_auth)
    assert response.status_code == 415, response.text
    body = response.json()
    assert body["code"] == 415 and body["message"] and body["description"], body
    assert sqlite_node.count("users", f"username = '{username}'") == 0


def test_a_browser_gets_no_basic_challenge_but_other_clients_do(sqlite_node):
    browser = sqlite_node.get("/scim2/Users", headers={"Sec-Fetch-Mode": "navigate"})
    assert browser.status_code == 401
    assert "basic" not in browser.headers.get("WWW-Authenticate", "").lower()
    from_page = sqlite_node.get(PUBLISHER + "/apis", headers={"Origin": "https://evil.example"})
    assert from_page.status_code == 401
    assert "basic" not in from_page.headers.get("WWW-Authenticate", "").lower()
    curl = sqlite_node.get("/scim2/Users")
    assert curl.status_code == 401
    assert "basic" in curl.headers["WWW-Authenticate"].lower()


def lifecycle_status(node: Node, api_id: str) -> str:
    return call(node, "GET", f"/apis/{api_id}").json()["lifeCycleStatus"]


def test_a_cross_site_lifecycle_change_is_refused_and_changes_nothing(sqlite_node):
    api = create_api(sqlite_node)
    params = {"apiId": api["id"], "action": "Publish"}
    refused = call(sqlite_node, "POST", "/apis/change-lifecycle", params=params,
                   headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == 403
    assert lifecycle_status(sqlite_node, api["id"]) == "CREATED"

    same_origin = f"https://127.0.0.1:{sqlite_node.https_port}"
    prototype = call(sqlite_node, "POST", "/apis/change-lifecycle",
                     params={"apiId": api["id"], "action": "Deploy as a Prototype"},
                     headers={"Origin": same_origin})
    assert prototype.status_code == 200, prototype.text
    assert lifecycle_status(sqlite_node, api["id"]) == "PROTOTYPED"


def test_the_same_request_without_origin_still_works(sqlite_node):
    api = create_api(sqlite_node)
    response = change_lifecycle(sqlite_node, api["id"], "Deploy as a Prototype")
    assert response.status_code == 200, response.text
    assert lifecycle_status(sqlite_node, api["id"]) == "PROTOTYPED"

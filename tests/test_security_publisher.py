"""Security of publishers, APIs and backends (docs/security.md): scope names that belong to
one API, YAML definitions whose aliases expand without bound, the backend address policy,
who may change and deploy an API, document links, the environments' httpContext check, and
IP blocking conditions decided before authentication."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from gateway_support import (Backend, Caller, create_deny_policy, delete_deny_policy,
                             endpoint_config, error_code, gateway, gateway_from, publish_api,
                             wait_for, wait_for_status)
from publisher_support import PASSWORD, call, create_user
from devportal_support import execute

PUBLISHER = "/api/am/publisher/v4"
DEVPORTAL = "/api/am/devportal/v3"


@pytest.fixture(scope="module")
def backend():
    b = Backend("security")
    yield b
    b.close()


def unique(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:8]


def api_body(backend_url: str, **fields) -> dict:
    name = fields.pop("name", unique("Sec"))
    body = {"name": name, "context": "/" + name.lower(), "version": "1.0.0",
            "endpointConfig": endpoint_config(backend_url), "policies": ["Gold", "Unlimited"]}
    body.update(fields)
    return body


def scope(name: str, bindings: list[str]) -> dict:
    return {"scope": {"name": name, "description": name, "bindings": bindings}, "shared": False}


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


# ---- 1. scope names belong to one API ----------------------------------------------------

@pytest.fixture(scope="module")
def guarded_api(sqlite_node, backend):
    """An admin's API whose every resource needs a scope bound to the admin role."""
    name = unique("orders_admin_")
    api = publish_api(sqlite_node, backend.url, scopes=[scope(name, ["admin"])],
                      operations=[{"target": "/*", "verb": verb, "scopes": [name]}
                                  for verb in ("GET", "POST")])
    caller = Caller(sqlite_node)
    caller.subscribe(api)
    return {"api": api, "scope": name, "caller": caller,
            "path": f"{api['context']}/1.0.0/orders"}


def assert_scope_refused(sqlite_node, guarded_api) -> None:
    """The subscriber still cannot get the scope, nor call the guarded resources."""
    token = guarded_api["caller"].token(scope=guarded_api["scope"])
    introspected = sqlite_node.introspect(token)
    assert guarded_api["scope"] not in introspected.get("scope", "").split()
    wait_for_status(sqlite_node, "GET", guarded_api["path"], 403, token)


def test_another_apis_scope_name_is_refused_with_409(sqlite_node, guarded_api, backend):
    creator = create_user(sqlite_node, ["creator"])
    before = sqlite_node.count("apis")
    taken = call(sqlite_node, "POST", "/apis", auth=creator,
                 json=api_body(backend.url, scopes=[scope(guarded_api["scope"], [])]))
    assert taken.status_code == 409, taken.text
    body = taken.json()
    assert body["code"] == 900988
    assert body["message"] == "Scope already assigned locally by another API"
    assert guarded_api["scope"] in body["description"]
    assert sqlite_node.count("apis") == before
    assert_scope_refused(sqlite_node, guarded_api)


def test_a_scope_cannot_be_added_to_an_existing_api_nor_imported(sqlite_node, guarded_api,
                                                                  backend):
    creator = create_user(sqlite_node, ["creator"])
    own = call(sqlite_node, "POST", "/apis", auth=creator, json=api_body(backend.url))
    assert own.status_code == 201, own.text
    api = own.json()
    changed = call(sqlite_node, "PUT", f"/apis/{api['id']}", auth=creator,
                   json={**api, "scopes": [scope(guarded_api["scope"], [])]})
    assert changed.status_code == 409, changed.text
    assert changed.json()["code"] == 900988
    stored = call(sqlite_node, "GET", f"/apis/{api['id']}").json()
    assert stored["scopes"] == []
    definition = (
        "openapi: 3.0.1\ninfo: {title: Imported, version: '1.0'}\n"
        "components:\n  securitySchemes:\n    default:\n      type: oauth2\n      flows:\n"
        "        implicit:\n          authorizationUrl: https://example.com/authorize\n"
        f"          scopes: {{{guarded_api['scope']}: taken}}\n"
        f"paths:\n  /orders:\n    get:\n      security: [{{default: [{guarded_api['scope']}]}}]\n"
        "      responses: {'200': {description: ok}}\n")
    name = unique("Imported")
    imported = call(sqlite_node, "POST", "/apis/import-openapi", auth=creator,
                    files={"file": ("api.yaml", definition.encode(), "application/yaml"),
                           "additionalProperties": (None, (
                               '{"name": "%s", "context": "/%s", "version": "1.0.0"}'
                               % (name, name.lower())).encode(), "application/json")})
    assert imported.status_code == 409, imported.text
    assert imported.json()["code"] == 900988
    assert_scope_refused(sqlite_node, guarded_api)


def test_a_second_version_cannot_widen_a_scopes_bindings(sqlite_node, guarded_api, backend):
    api = guarded_api["api"]
    # Another provider's API of the same name (a new version) is another API.
    creator = create_user(sqlite_node, ["creator"])
    other = call(sqlite_node, "POST", "/apis", auth=creator,
                 json=api_body(backend.url, name=api["name"], context=api["context"] + "x",
                               version="9.0.0", scopes=[scope(guarded_api["scope"], [])]))
    assert other.status_code == 409, other.text
    # The provider's own new version without bindings does not open the scope either.
    copied = call(sqlite_node, "POST", "/apis/copy-api",
                  params={"apiId": api["id"], "newVersion": "2.0.0"})
    assert copied.status_code == 201, copied.text
    copy = copied.json()
    opened = call(sqlite_node, "PUT", f"/apis/{copy['id']}",
                  json={**copy, "scopes": [scope(guarded_api["scope"], [])]})
    assert opened.status_code == 200, opened.text
    assert_scope_refused(sqlite_node, guarded_api)


@pytest.mark.parametrize("name", ["default", "openid", "apim:api_create", "apim:admin"])
def test_reserved_scope_names_are_refused(sqlite_node, backend, name):
    creator = create_user(sqlite_node, ["creator"])
    response = call(sqlite_node, "POST", "/apis", auth=creator,
                    json=api_body(backend.url, scopes=[scope(name, [])]))
    assert response.status_code == 400, response.text
    assert "reserved" in response.json()["description"]


# ---- 2. YAML aliases expand within a budget ----------------------------------------------

def alias_bomb(scalar_kib: int = 400, aliases: int = 1500) -> bytes:
    """One large anchored scalar named by many aliases: ~400 KiB of YAML that expands to
    ~600 MiB of text."""
    text = ("openapi: 3.0.1\ninfo: {title: Bomb, version: '1.0'}\npaths: {}\n"
            "x-big: &big " + "a" * (scalar_kib * 1024) + "\nx-refs:\n")
    return (text + "  - *big\n" * aliases).encode()


def test_a_yaml_alias_bomb_is_refused_without_the_memory(sqlite_node, backend):
    pid = sqlite_node.process.pid
    api = call(sqlite_node, "POST", "/apis", json=api_body(backend.url)).json()
    before = rss_kib(pid)
    for method, path in (("POST", "/apis/validate-openapi"), ("POST", "/apis/import-openapi"),
                         ("PUT", f"/apis/{api['id']}/swagger")):
        response = call(sqlite_node, method, path, timeout=120,
                        files={"file": ("bomb.yaml", alias_bomb(), "application/yaml")})
        assert response.status_code == 400, (path, response.status_code, response.text[:300])
        assert "aliases" in response.json()["description"], response.text[:300]
        grown_mib = (rss_kib(pid) - before) / 1024
        assert grown_mib < 200, f"{path}: the node grew by {grown_mib:.0f} MiB"
    assert sqlite_node.get("/oauth2/jwks").status_code == 200
    stored = call(sqlite_node, "GET", f"/apis/{api['id']}/swagger")
    assert stored.status_code == 200 and "Bomb" not in stored.text


# ---- 3. backend address policy, ownership and deployment -----------------------------------

@pytest.fixture(scope="module")
def strict_node(sqlite_launcher):
    """A node with the default policy: no loopback or link-local backends."""
    return sqlite_launcher.new(sections={"security": {"allow_loopback_backends": False}})


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/", "http://localhost:8080/", "http://127.1/", "http://2130706433/",
    "http://[::1]:8080/", "http://0.0.0.0:8080/", "http://%31%32%37.0.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/",
])
def test_loopback_and_link_local_endpoints_are_refused_at_save(strict_node, url):
    before = strict_node.count("apis")
    created = call(strict_node, "POST", "/apis", json=api_body(url))
    assert created.status_code == 400, created.text
    assert "not an allowed backend" in created.json()["description"]
    assert strict_node.count("apis") == before
    public = call(strict_node, "POST", "/apis", json=api_body("https://backend.example/v1"))
    assert public.status_code == 201, public.text
    api = public.json()
    changed = call(strict_node, "PUT", f"/apis/{api['id']}",
                   json={**api, "endpointConfig": endpoint_config(
                       "https://backend.example/v1", sandbox=url)})
    assert changed.status_code == 400, changed.text
    stored = call(strict_node, "GET", f"/apis/{api['id']}").json()
    assert stored["endpointConfig"] == api["endpointConfig"]


def test_the_nodes_own_listeners_are_refused_even_with_loopback_allowed(sqlite_node):
    for port in (sqlite_node.gateway_admin_port, sqlite_node.https_port,
                 sqlite_node.gateway_http_port):
        for host in ("127.0.0.1", "localhost", "[::1]"):
            response = call(sqlite_node, "POST", "/apis",
                            json=api_body(f"http://{host}:{port}/metrics"))
            assert response.status_code == 400, (host, port, response.text)
            assert "own listeners" in response.json()["description"]


def test_the_gateway_refuses_a_refused_address_when_it_connects(sqlite_launcher, backend):
    node = sqlite_launcher.new()
    api = publish_api(node, backend.url)
    caller = Caller(node)
    caller.subscribe(api)
    token = caller.token()
    path = f"{api['context']}/1.0.0/pets"
    wait_for_status(node, "GET", path, 200, token)
    # Saved while loopback was allowed; the policy changes.
    node.stop()
    node.configure({"security": {"allow_loopback_backends": False}})
    node.start()
    token = caller.token()
    response = wait_for_status(node, "GET", path, 502, token)
    assert error_code(response) == 101503, response.text
    assert "refused" in node.log_tail(200)
    assert "loopback" in node.log_tail(200)


def test_only_the_provider_or_a_publisher_changes_an_api(sqlite_node, backend):
    owner = create_user(sqlite_node, ["creator"])
    intruder = create_user(sqlite_node, ["creator"])
    reviewer = create_user(sqlite_node, ["publisher", "creator"])
    created = call(sqlite_node, "POST", "/apis", auth=owner, json=api_body(backend.url))
    assert created.status_code == 201, created.text
    api = created.json()
    hijack = {**api, "endpointConfig": endpoint_config("https://attacker.example/"),
              "operations": [{"target": "/*", "verb": "GET", "authType": "None"}]}
    refused = call(sqlite_node, "PUT", f"/apis/{api['id']}", auth=intruder, json=hijack)
    assert refused.status_code == 403, refused.text
    stored = call(sqlite_node, "GET", f"/apis/{api['id']}").json()
    assert stored["endpointConfig"] == api["endpointConfig"]
    assert stored["operations"] == api["operations"]
    for method, path, kwargs in (
            ("DELETE", f"/apis/{api['id']}", {}),
            ("POST", f"/apis/{api['id']}/revisions", {"json": {}}),
            ("POST", f"/apis/{api['id']}/documents",
             {"json": {"name": "x", "type": "HOWTO", "sourceType": "INLINE"}})):
        response = call(sqlite_node, method, path, auth=intruder, **kwargs)
        assert response.status_code == 403, (method, path, response.text)
    assert call(sqlite_node, "GET", f"/apis/{api['id']}").status_code == 200
    mine = call(sqlite_node, "PUT", f"/apis/{api['id']}", auth=owner,
                json={**api, "description": "by its provider"})
    assert mine.status_code == 200, mine.text
    reviewed = call(sqlite_node, "PUT", f"/apis/{api['id']}", auth=reviewer,
                    json={**mine.json(), "description": "by a publisher"})
    assert reviewed.status_code == 200, reviewed.text


def test_deploying_a_published_api_needs_the_publisher_role(sqlite_node, backend):
    owner = create_user(sqlite_node, ["creator"])
    created = call(sqlite_node, "POST", "/apis", auth=owner, json=api_body(backend.url))
    api = created.json()

    def deploy(auth):
        revision = call(sqlite_node, "POST", f"/apis/{api['id']}/revisions", auth=auth,
                        json={"description": "r"})
        assert revision.status_code == 201, revision.text
        return call(sqlite_node, "POST", f"/apis/{api['id']}/deploy-revision", auth=auth,
                    params={"revisionId": revision.json()["id"]},
                    json=[{"name": "Default", "displayOnDevportal": True}])

    # Before publication the creator deploys their own API.
    assert deploy(owner).status_code == 201
    published = call(sqlite_node, "POST", "/apis/change-lifecycle",
                     params={"apiId": api["id"], "action": "Publish"})
    assert published.status_code == 200, published.text
    before = call(sqlite_node, "GET", f"/apis/{api['id']}/deployments").json()
    refused = deploy(owner)
    assert refused.status_code == 403, refused.text
    assert call(sqlite_node, "GET", f"/apis/{api['id']}/deployments").json() == before
    reviewer = create_user(sqlite_node, ["publisher", "creator"])
    assert deploy(reviewer).status_code == 201


# ---- 4. low items ------------------------------------------------------------------------

def test_a_long_http_context_is_refused_at_once(sqlite_node):
    context = "/" + "a" * 253 + "!"
    body = {"name": unique("env"), "vhosts": [{"host": "gw.example.com", "httpContext": context}]}
    response = sqlite_node.request("POST", sqlite_node.https_url + "/api/am/admin/v4/environments",
                                   auth=sqlite_node.admin_auth, json=body, timeout=10)
    assert response.status_code == 400, response.text
    assert "httpContext" in response.json()["description"]
    # The node still answers: no thread is left matching.
    assert sqlite_node.get("/oauth2/jwks", timeout=10).status_code == 200


@pytest.mark.parametrize("url", ["javascript:alert(document.domain)",
                                 "data:text/html,<script>alert(1)</script>",
                                 "//attacker.example/", "file:///etc/passwd",
                                 "JaVaScRiPt:alert(1)"])
def test_a_document_link_must_be_http(sqlite_node, backend, url):
    api = call(sqlite_node, "POST", "/apis", json=api_body(backend.url)).json()
    response = call(sqlite_node, "POST", f"/apis/{api['id']}/documents",
                    json={"name": "Link", "type": "HOWTO", "sourceType": "URL",
                          "sourceUrl": url})
    assert response.status_code == 400, response.text
    listed = call(sqlite_node, "GET", f"/apis/{api['id']}/documents").json()
    assert listed["count"] == 0


def test_document_links_redirect_only_to_http_urls_with_nosniff(sqlite_node, backend):
    api = publish_api(sqlite_node, backend.url)
    base = f"/apis/{api['id']}/documents"
    created = call(sqlite_node, "POST", base,
                   json={"name": "Forum", "type": "PUBLIC_FORUM", "sourceType": "URL",
                         "sourceUrl": "https://forum.example/x"})
    assert created.status_code == 201, created.text
    doc_id = created.json()["documentId"]
    portal = sqlite_node.https_url + DEVPORTAL + f"/apis/{api['id']}/documents/{doc_id}/content"
    for response in (call(sqlite_node, "GET", f"{base}/{doc_id}/content"),
                     sqlite_node.request("GET", portal)):
        assert response.status_code == 303, response.text
        assert response.headers["Location"] == "https://forum.example/x"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    # A link stored by other means (an older version, the database) is not followed.
    execute(sqlite_node, [
        "UPDATE api_documents SET document = replace(document, 'https://forum.example/x', "
        f"'javascript:alert(1)') WHERE id = '{doc_id}'"])
    for response in (call(sqlite_node, "GET", f"{base}/{doc_id}/content"),
                     sqlite_node.request("GET", portal)):
        assert response.status_code == 404, response.text
        assert "Location" not in response.headers


def test_an_ip_deny_policy_refuses_before_any_credential_check(sqlite_node, backend):
    api = publish_api(sqlite_node, backend.url)
    caller = Caller(sqlite_node)
    caller.subscribe(api)
    token = caller.token()
    path = f"{api['context']}/1.0.0/pets"
    wait_for_status(sqlite_node, "GET", path, 200, token)
    policy = create_deny_policy(sqlite_node, "IP", {"fixedIp": "127.0.0.7", "invert": False})
    try:
        def blocked():
            r = gateway_from("127.0.0.7", sqlite_node, "GET", path, token)
            return [r] if r.status_code == 429 else None
        wait_for(blocked)
        # A bogus credential gets the deny answer, not an authentication failure (900901).
        for headers in ({"Authorization": "Bearer not-a-token"},
                        {"Authorization": "Basic " + "bm9ib2R5Om5vdGhpbmc="}, {}):
            response = gateway_from("127.0.0.7", sqlite_node, "GET", path, headers=headers)
            assert response.status_code == 429, response.text
            assert error_code(response) == 900805, response.text
        # Other addresses are authenticated as before.
        bogus = gateway_from("127.0.0.8", sqlite_node, "GET", path,
                             headers={"Authorization": "Bearer not-a-token"})
        assert bogus.status_code == 401 and error_code(bogus) == 900901, bogus.text
    finally:
        delete_deny_policy(sqlite_node, policy)

"""Publisher v4 APIs: create, read, update, delete, search, copy-api, authorization and the
mass-assignment rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from publisher_support import (api_body, assert_error, call, change_lifecycle, create_api,
                               create_user, insert_subscription, new_name)


@pytest.fixture(scope="module")
def users(node):
    return {role: create_user(node, [role]) for role in ("creator", "publisher", "subscriber")}


def test_create_returns_the_api_with_defaults_and_the_caller_as_provider(node, users):
    name = new_name()
    response = call(node, "POST", "/apis", auth=users["creator"],
                    json=api_body(name=name, context=name, description="Pizza",
                                  tags=["food"], provider="mallory", lifeCycleStatus="PUBLISHED",
                                  id="11111111-1111-1111-1111-111111111111",
                                  createdTime="1"))
    assert response.status_code == 201, response.text
    api = response.json()
    assert response.headers["Location"].endswith("/apis/" + api["id"])
    assert api["id"] != "11111111-1111-1111-1111-111111111111"
    assert api["context"] == "/" + name  # normalized to start with /
    assert api["provider"] == users["creator"][0]  # never the body's
    assert api["lifeCycleStatus"] == "CREATED"
    assert api["createdTime"] != "1"
    assert api["type"] == "HTTP"
    assert api["tags"] == ["food"]
    assert api["policies"] == ["Gold", "Unlimited"]
    assert {op["verb"] for op in api["operations"]} == {"GET", "PUT", "POST", "DELETE", "PATCH"}
    fetched = call(node, "GET", f"/apis/{api['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == api


@pytest.mark.parametrize("fields, fragment", [
    ({"name": ""}, "name"),
    ({"name": "bad/name"}, "name"),
    ({"version": "1 0"}, "version"),
    ({"context": "/a b"}, "context"),
    ({"type": "GRAPHQL"}, "type"),
    ({"transport": ["ftp"]}, "transport"),
    ({"policies": ["NoSuchTier"]}, "NoSuchTier"),
    ({"apiThrottlingPolicy": "NoSuchPolicy"}, "NoSuchPolicy"),
    ({"securityScheme": ["magic"]}, "securityScheme"),
    ({"visibility": "RESTRICTED"}, "visibleRoles"),
    ({"endpointConfig": {"endpoint_type": "http",
                         "production_endpoints": {"url": "ftp://x.example"}}}, "url"),
    ({"endpointConfig": {"endpoint_type": "soap",
                         "production_endpoints": {"url": "https://x.example"}}}, "endpoint_type"),
    ({"endpointConfig": {"endpoint_type": "load_balance",
                         "production_endpoints": []}}, "production_endpoints"),
    ({"operations": [{"target": "/a", "verb": "FETCH"}]}, "verb"),
    ({"operations": [{"target": "a", "verb": "GET"}]}, "target"),
    ({"operations": [{"target": "/a", "verb": "GET"}, {"target": "/a", "verb": "get"}]}, "twice"),
    ({"operations": [{"target": "/a", "verb": "GET", "scopes": ["undefined_scope"]}]},
     "undefined_scope"),
    ({"additionalProperties": [{"name": "a b", "value": "x"}]}, "additionalProperties"),
    ({"tags": "food"}, "tags"),
    ({"maxTps": {"production": -1}}, "maxTps.production"),
    ({"maxTps": {"sandbox": "lots"}}, "maxTps.sandbox"),
    ({"maxTps": [10]}, "maxTps"),
    ({"enableApiKeyQueryParam": "true"}, "enableApiKeyQueryParam"),
    ({"apiKeyHeader": "api key"}, "apiKeyHeader"),
    ({"authorizationHeader": "Authorization:"}, "authorizationHeader"),
    ({"apiKeyHeader": "AUTHORIZATION"}, "differ"),
    ({"operations": [{"target": "/a", "verb": "GET", "operationPolicies": {"request": [
        {"policyName": "jsonToXml", "parameters": {}}]}}]}, "jsonToXml"),
    ({"operations": [{"target": "/a", "verb": "GET", "operationPolicies": {"request": [
        {"policyName": "addHeader", "parameters": {"headerName": "X-A"}}]}}]}, "headerValue"),
    ({"operations": [{"target": "/a", "verb": "GET", "operationPolicies": {"request": [
        {"policyName": "addHeader", "parameters": {"headerName": "X-A",
                                                   "headerValue": "a\r\nX-B: b"}}]}}]},
     "control character"),
    ({"operations": [{"target": "/a", "verb": "GET", "operationPolicies": {"response": [
        {"policyName": "removeHeader", "parameters": {"headerName": "Content-Length"}}]}}]},
     "managed by the gateway"),
    ({"operations": [{"target": "/a", "verb": "GET", "operationPolicies": {"request": [
        {"policyName": "removeHeader", "parameters": {"headerName": "X-A"}}] * 21}}]},
     "more than 20"),
    ({"operations": [{"target": "/a", "verb": "GET", "operationPolicies": {"fault": [
        {"policyName": "removeHeader", "parameters": {"headerName": "X-A"}}]}}]}, "fault"),
    ({"endpointConfig": {"endpoint_type": "http", "production_endpoints": {
        "url": "https://x.example", "config": {"actionDuration": "soon"}}}}, "actionDuration"),
    ({"endpointConfig": {"endpoint_type": "http", "production_endpoints": {
        "url": "https://x.example", "config": {"actionSelect": "neverTimeout"}}}},
     "actionSelect"),
    ({"endpointConfig": {"endpoint_type": "http", "production_endpoints": {
        "url": "https://x.example", "config": {"suspendErrorCode": ["500"]}}}},
     "suspendErrorCode"),
    ({"endpointConfig": {"endpoint_type": "http", "production_endpoints": {
        "url": "https://x.example", "config": {"retryTimeOut": 1000}}}}, "retryTimeOut"),
])
def test_create_refuses_invalid_fields_and_stores_nothing(node, fields, fragment):
    body = api_body(**fields)
    before = node.count("apis")
    error = assert_error(call(node, "POST", "/apis", json=body), 400)
    assert fragment in error["description"], error
    assert node.count("apis") == before


def test_create_refuses_malformed_and_oversized_bodies(node):
    assert_error(call(node, "POST", "/apis", data="{not json",
                      headers={"Content-Type": "application/json"}), 400)
    assert_error(call(node, "POST", "/apis", json=[1, 2]), 400)
    missing = api_body()
    del missing["context"]
    assert "context" in assert_error(call(node, "POST", "/apis", json=missing),
                                     400)["description"]


def test_name_or_context_and_version_are_unique(node):
    api = create_api(node)
    assert_error(call(node, "POST", "/apis", json=api_body(name=api["name"],
                                                           context="/" + new_name())), 409)
    assert_error(call(node, "POST", "/apis", json=api_body(context=api["context"])), 409)


def test_endpoint_kinds_are_accepted(node):
    lb = create_api(node, endpointConfig={
        "endpoint_type": "load_balance", "algoCombination": "org.example.RoundRobin",
        "production_endpoints": [{"url": "https://a.example"}, {"url": "http://b.example:8080"}],
        "sandbox_endpoints": [{"url": "https://sandbox.example"}]})
    assert len(lb["endpointConfig"]["production_endpoints"]) == 2
    fo = create_api(node, endpointConfig={
        "endpoint_type": "failover", "production_endpoints": {"url": "https://a.example"},
        "production_failovers": [{"url": "https://b.example"}]})
    assert fo["endpointConfig"]["production_failovers"] == [{"url": "https://b.example"}]


def test_update_changes_fields_but_not_identity(node):
    api = create_api(node)
    path = f"/apis/{api['id']}"
    body = dict(api, description="changed", tags=["a", "b"], lifeCycleStatus="PUBLISHED",
                provider=api["provider"], createdTime="5",
                operations=[{"target": "/orders/{id}", "verb": "GET", "scopes": ["orders_read"]}],
                scopes=[{"scope": {"name": "orders_read", "bindings": ["admin"]}}])
    response = call(node, "PUT", path, json=body)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["description"] == "changed"
    assert updated["tags"] == ["a", "b"]
    assert updated["lifeCycleStatus"] == "CREATED"
    assert updated["createdTime"] == api["createdTime"]
    assert updated["operations"][0]["scopes"] == ["orders_read"]
    assert call(node, "GET", path).json() == updated
    for field, value in (("name", "other"), ("version", "9.9"), ("context", "/other"),
                         ("provider", "mallory")):
        error = assert_error(call(node, "PUT", path, json={field: value}), 400)
        assert "cannot change" in error["description"]
    assert call(node, "GET", path).json() == updated
    assert_error(call(node, "PUT", "/apis/00000000-0000-0000-0000-000000000000",
                      json={"description": "x"}), 404)


def test_unknown_api_is_404(node):
    for method in ("GET", "DELETE"):
        assert_error(call(node, method, "/apis/00000000-0000-0000-0000-000000000000"), 404)
    assert_error(call(node, "GET", "/apis/" + "x" * 300), 404)


def test_delete_is_refused_while_subscribed(node):
    api = create_api(node)
    insert_subscription(node, api["id"])
    assert_error(call(node, "DELETE", f"/apis/{api['id']}"), 409)
    assert call(node, "GET", f"/apis/{api['id']}").status_code == 200
    other = create_api(node)
    assert call(node, "DELETE", f"/apis/{other['id']}").status_code == 200
    assert_error(call(node, "GET", f"/apis/{other['id']}"), 404)
    assert node.count("apis", f"id = '{other['id']}'") == 0


def test_search_by_attribute_and_text_with_paging(node):
    tag = new_name("tag")
    word = new_name("word")
    a = create_api(node, tags=[tag], description=f"has {word} inside")
    b = create_api(node, tags=[tag])
    c = create_api(node, name=f"Zeta{word}")
    assert change_lifecycle(node, b["id"], "Publish").status_code == 200

    def ids(query, **params):
        response = call(node, "GET", "/apis", params={"query": query, **params})
        assert response.status_code == 200, response.text
        return response.json()

    assert {x["id"] for x in ids(f"tags:{tag}")["list"]} == {a["id"], b["id"]}
    assert [x["id"] for x in ids(f"tags:{tag} status:PUBLISHED")["list"]] == [b["id"]]
    assert {x["id"] for x in ids(word)["list"]} == {a["id"], c["id"]}  # name or description
    assert [x["id"] for x in ids(f"name:zeta{word}")["list"]] == [c["id"]]
    assert [x["id"] for x in ids(f"name:*eta{word}*")["list"]] == [c["id"]]
    assert ids(f"provider:nobody{word}")["count"] == 0
    page = ids(f"tags:{tag}", limit=1, offset=0, sortBy="createdTime", sortOrder="asc")
    assert page["count"] == 1 and page["pagination"]["total"] == 2
    assert page["pagination"]["next"]
    second = ids(f"tags:{tag}", limit=1, offset=1, sortBy="createdTime", sortOrder="asc")
    assert {page["list"][0]["id"], second["list"][0]["id"]} == {a["id"], b["id"]}
    item = page["list"][0]
    assert {"id", "name", "context", "version", "provider", "lifeCycleStatus"} <= item.keys()
    assert_error(call(node, "GET", "/apis", params={"query": "color:red"}), 400)
    assert_error(call(node, "GET", "/apis", params={"limit": "0"}), 400)
    assert_error(call(node, "GET", "/apis", params={"sortBy": "evil;"}), 400)


def test_copy_api_makes_a_new_created_version(node):
    api = create_api(node, description="v1")
    assert change_lifecycle(node, api["id"], "Publish").status_code == 200
    doc = call(node, "POST", f"/apis/{api['id']}/documents",
               json={"name": "Guide", "type": "HOWTO", "sourceType": "INLINE",
                     "inlineContent": "hello"})
    assert doc.status_code == 201, doc.text
    response = call(node, "POST", "/apis/copy-api",
                    params={"apiId": api["id"], "newVersion": "2.0.0", "defaultVersion": "true"})
    assert response.status_code == 201, response.text
    copy = response.json()
    assert copy["id"] != api["id"]
    assert copy["version"] == "2.0.0"
    assert copy["name"] == api["name"] and copy["context"] == api["context"]
    assert copy["lifeCycleStatus"] == "CREATED"
    assert copy["isDefaultVersion"] is True
    assert copy["operations"] == api["operations"]
    docs = call(node, "GET", f"/apis/{copy['id']}/documents").json()
    assert [d["name"] for d in docs["list"]] == ["Guide"]
    assert_error(call(node, "POST", "/apis/copy-api",
                      params={"apiId": api["id"], "newVersion": "2.0.0"}), 409)
    assert_error(call(node, "POST", "/apis/copy-api",
                      params={"apiId": "00000000-0000-0000-0000-000000000000",
                              "newVersion": "3"}), 404)
    assert_error(call(node, "POST", "/apis/copy-api", params={"apiId": api["id"]}), 400)


def test_authorization_by_role(node, users):
    assert_error(call(node, "GET", "/apis", auth=()), 401)
    assert_error(call(node, "POST", "/apis", auth=(), json=api_body()), 401)
    assert_error(call(node, "GET", "/apis", auth=("admin", "wrong-password")), 401)
    assert_error(call(node, "POST", "/apis", auth=users["subscriber"], json=api_body()), 403)
    assert_error(call(node, "GET", "/apis", auth=users["subscriber"]), 403)
    # A publisher manages the lifecycle but does not create; a creator the reverse.
    assert_error(call(node, "POST", "/apis", auth=users["publisher"], json=api_body()), 403)
    api = create_api(node, auth=users["creator"])
    assert call(node, "GET", f"/apis/{api['id']}", auth=users["publisher"]).status_code == 200
    assert_error(change_lifecycle(node, api["id"], "Publish", auth=users["creator"]), 403)
    assert change_lifecycle(node, api["id"], "Publish", auth=users["publisher"]).status_code == 200
    assert_error(call(node, "DELETE", f"/apis/{api['id']}", auth=users["publisher"]), 403)
    assert_error(call(node, "DELETE", f"/apis/{api['id']}", auth=users["subscriber"]), 403)
    assert call(node, "DELETE", f"/apis/{api['id']}", auth=users["creator"]).status_code == 200


def test_throttling_policies_lists(node):
    response = call(node, "GET", "/throttling-policies/subscription")
    assert response.status_code == 200, response.text
    names = {p["name"] for p in response.json()["list"]}
    assert {"Bronze", "Silver", "Gold", "Unlimited"} <= names
    response = call(node, "GET", "/throttling-policies/api")
    assert response.status_code == 200
    assert "Unlimited" in {p["name"] for p in response.json()["list"]}
    assert_error(call(node, "GET", "/throttling-policies/nope"), 400)


def test_api_scopes_become_grantable(node):
    scope = new_name("scope_")
    client = node.register_client()
    form = {"grant_type": "password", "username": "admin", "password": node.admin_password,
            "scope": scope}
    before = node.token(client, form)
    assert scope not in before.json().get("scope", "").split()
    create_api(node, scopes=[{"scope": {"name": scope, "bindings": ["admin"]}}],
               operations=[{"target": "/x", "verb": "GET", "scopes": [scope]}])
    after = node.token(client, form)
    assert after.status_code == 200, after.text
    assert scope in after.json()["scope"].split()


def test_role_bound_api_scope_goes_only_to_holders_of_its_roles(node):
    scope = new_name("scope_")
    create_api(node, scopes=[{"scope": {"name": scope, "bindings": ["creator"]}}],
               operations=[{"target": "/x", "verb": "GET", "scopes": [scope]}])
    client = node.register_client()

    def granted(credentials):
        response = node.token(client, {"grant_type": "password", "username": credentials[0],
                                       "password": credentials[1], "scope": scope})
        assert response.status_code == 200, response.text
        return response.json()["scope"].split()

    assert scope in granted(create_user(node, ["creator"]))
    # Left out, not refused, for anyone else (as REST scopes are).
    assert granted(create_user(node, ["subscriber"])) == ["default"]


def test_validate_api_existence(node):
    api = create_api(node)

    def check(query):
        return call(node, "POST", "/apis/validate", params={"query": query}).status_code

    assert check(f"name:{api['name'].upper()}") == 200
    assert check(api["name"]) == 200
    assert check(f"context:{api['context'][1:]}") == 200
    assert check(f"name:{api['name']}x") == 404
    assert check(f"context:{api['context']}/more") == 404
    assert check("colour:red") == 400


def test_subscription_policies_of_an_api(node):
    api = create_api(node, policies=["Gold", "Bronze"])
    response = call(node, "GET", f"/apis/{api['id']}/subscription-policies")
    assert response.status_code == 200, response.text
    assert sorted(p["name"] for p in response.json()) == ["Bronze", "Gold"]
    assert_error(call(node, "GET",
                      "/apis/00000000-0000-0000-0000-000000000000/subscription-policies"), 404)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16

# (operation, expected status per role): the reference's scopes for each operation, through
# the default role-to-scope mapping.
MATRIX = [
    ("list", {"admin": 200, "creator": 200, "publisher": 200, "subscriber": 403}),
    ("create", {"admin": 201, "creator": 201, "publisher": 403, "subscriber": 403}),
    ("get", {"admin": 200, "creator": 200, "publisher": 200, "subscriber": 403}),
    ("update", {"admin": 200, "creator": 200, "publisher": 403, "subscriber": 403}),
    ("delete", {"admin": 200, "creator": 200, "publisher": 403, "subscriber": 403}),
    ("lifecycle", {"admin": 200, "creator": 403, "publisher": 200, "subscriber": 403}),
    ("revision", {"admin": 201, "creator": 201, "publisher": 201, "subscriber": 403}),
    ("document", {"admin": 201, "creator": 201, "publisher": 201, "subscriber": 403}),
    ("thumbnail", {"admin": 200, "creator": 200, "publisher": 200, "subscriber": 403}),
    ("subscriptions", {"admin": 200, "creator": 200, "publisher": 200, "subscriber": 403}),
    ("block", {"admin": 404, "creator": 403, "publisher": 404, "subscriber": 403}),
]


@pytest.mark.parametrize("role", ["admin", "creator", "publisher", "subscriber"])
@pytest.mark.parametrize("operation, expected", MATRIX, ids=[m[0] for m in MATRIX])
def test_authorization_matrix(node, users, role, operation, expected):
    auth = node.admin_auth if role == "admin" else users[role]
    # A creator changes only the APIs it provides (test_security_publisher has the refusals).
    api = create_api(node, auth=users["creator"] if role == "creator" else None)
    path = f"/apis/{api['id']}"
    requests_by_operation = {
        "list": lambda: call(node, "GET", "/apis", auth=auth),
        "create": lambda: call(node, "POST", "/apis", auth=auth, json=api_body()),
        "get": lambda: call(node, "GET", path, auth=auth),
        "update": lambda: call(node, "PUT", path, auth=auth, json={"description": "x"}),
        "delete": lambda: call(node, "DELETE", path, auth=auth),
        "lifecycle": lambda: change_lifecycle(node, api["id"], "Publish", auth=auth),
        "revision": lambda: call(node, "POST", path + "/revisions", auth=auth, json={}),
        "document": lambda: call(node, "POST", path + "/documents", auth=auth,
                                 json={"name": "D", "type": "HOWTO", "sourceType": "INLINE"}),
        "thumbnail": lambda: call(node, "PUT", path + "/thumbnail", auth=auth,
                                  files={"file": ("t.png", PNG)}),
        "subscriptions": lambda: call(node, "GET", "/subscriptions", auth=auth,
                                      params={"apiId": api["id"]}),
        "block": lambda: call(node, "POST", "/subscriptions/block-subscription", auth=auth,
                              params={"subscriptionId": "00000000-0000-0000-0000-000000000000",
                                      "blockState": "BLOCKED"}),
    }
    response = requests_by_operation[operation]()
    assert response.status_code == expected[role], response.text


def test_gateway_fields_have_defaults(node):
    api = create_api(node)
    assert api["apiKeyHeader"] == "apikey"
    assert api["authorizationHeader"] == "Authorization"
    assert api["enableApiKeyQueryParam"] is False
    assert api["maxTps"] is None
    assert all(op["operationPolicies"] == {"request": [], "response": [], "fault": []}
               for op in api["operations"])


def test_gateway_fields_are_stored_normalized_and_round_trip(node):
    # Numbers as the reference's publisher sends them (strings, "" for empty fields).
    config = {"actionDuration": "30000", "actionSelect": "fault", "suspendDuration": "",
              "suspendMaxDuration": "60000", "factor": "2", "suspendErrorCode": ["101503"],
              "retryTimeOut": "3", "retryDelay": "", "retryErroCode": [],
              "connectTimeout": 2000, "format": "soap11"}
    api = create_api(node, maxTps={"production": 1000, "sandbox": "10"},
                     securityScheme=["api_key", "oauth2"], apiKeyHeader="X-Api-Key",
                     enableApiKeyQueryParam=True,
                     endpointConfig={"endpoint_type": "load_balance", "production_endpoints": [
                         {"url": "https://a.example", "config": config,
                          "endpoint_type": "http", "template_not_supported": False},
                         {"url": "https://b.example"}]},
                     operations=[{"target": "/orders", "verb": "POST", "operationPolicies": {
                         "request": [{"policyName": "addHeader", "policyId": "ignored",
                                      "parameters": {"headerName": "X-Tenant",
                                                     "headerValue": "acme"}}],
                         "response": [{"policyName": "removeHeader", "policyVersion": "v1",
                                       "parameters": {"headerName": "Server"}}],
                         "fault": []}}])
    assert api["maxTps"] == {"production": 1000, "sandbox": 10}
    assert api["apiKeyHeader"] == "X-Api-Key"
    assert api["enableApiKeyQueryParam"] is True
    assert api["endpointConfig"]["production_endpoints"] == [
        {"url": "https://a.example",
         "config": {"actionDuration": 30000, "actionSelect": "fault",
                    "suspendMaxDuration": 60000, "factor": 2.0,
                    "suspendErrorCode": ["101503"], "retryTimeOut": 3,
                    "connectTimeout": 2000}},
        {"url": "https://b.example"}]
    assert api["operations"][0]["operationPolicies"] == {
        "request": [{"policyName": "addHeader", "policyVersion": "v1",
                     "parameters": {"headerName": "X-Tenant", "headerValue": "acme"}}],
        "response": [{"policyName": "removeHeader", "policyVersion": "v1",
                      "parameters": {"headerName": "Server"}}],
        "fault": []}
    path = f"/apis/{api['id']}"
    assert call(node, "GET", path).json() == api
    # What a client reads it writes back unchanged.
    again = call(node, "PUT", path, json=api)
    assert again.status_code == 200, again.text
    assert {k: v for k, v in again.json().items() if k != "lastUpdatedTime"} == \
        {k: v for k, v in api.items() if k != "lastUpdatedTime"}
    cleared = call(node, "PUT", path, json={"maxTps": None})
    assert cleared.json()["maxTps"] is None


def test_refused_gateway_fields_leave_the_api_as_it_was(node):
    api = create_api(node, maxTps={"production": 5})
    path = f"/apis/{api['id']}"
    before = call(node, "GET", path).json()
    for body in ({"maxTps": {"production": 1.5}},
                 {"operations": [{"target": "/a", "verb": "GET", "operationPolicies": []}]},
                 {"endpointConfig": {"endpoint_type": "failover", "production_endpoints": {
                     "url": "https://a.example"}, "production_failovers": [
                     {"url": "https://b.example", "config": {"factor": 0}}]}}):
        assert_error(call(node, "PUT", path, json=body), 400)
    assert call(node, "GET", path).json() == before


def test_a_new_definition_keeps_the_policies_of_the_operations_it_keeps(node):
    policies = {"request": [{"policyName": "removeHeader",
                             "parameters": {"headerName": "X-Debug"}}]}
    api = create_api(node, operations=[{"target": "/a", "verb": "GET",
                                        "operationPolicies": policies}])
    definition = ("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n"
                  "  /a:\n    get:\n      responses: {'200': {description: ok}}\n"
                  "  /b:\n    get:\n      responses: {'200': {description: ok}}\n")
    response = call(node, "PUT", f"/apis/{api['id']}/swagger",
                    files={"apiDefinition": (None, definition)})
    assert response.status_code == 200, response.text
    ops = {op["target"]: op for op in call(node, "GET", f"/apis/{api['id']}").json()["operations"]}
    assert ops["/a"]["operationPolicies"]["request"][0]["parameters"] == {"headerName": "X-Debug"}
    assert ops["/b"]["operationPolicies"]["request"] == []

"""Admin v4 gateway environments and deny policies (blocking conditions)."""

import uuid

import pytest

from admin_support import admin, create_user, execute, insert_api, new_name


def environments(node):
    response = admin(node, "GET", "/environments")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["list"])
    return {e["name"]: e for e in body["list"]}


def test_default_environment_exists(node):
    default = environments(node)["Default"]
    vhost = default["vhosts"][0]
    assert (vhost["host"], vhost["httpPort"], vhost["httpsPort"]) == ("localhost", 8280, 8243)


def test_default_environment_cannot_be_deleted(node):
    default = environments(node)["Default"]
    response = admin(node, "DELETE", f"/environments/{default['id']}")
    assert response.status_code == 409
    assert "Default" in environments(node)


def test_environment_crud(node):
    name = new_name("env-")
    body = {"id": "mine", "name": name, "displayName": "EU", "description": "eu gateways",
            "vhosts": [{"host": "eu.gw.example.com", "httpContext": "/eu", "httpsPort": 443}]}
    created = admin(node, "POST", "/environments", json=body)
    assert created.status_code == 201, created.text
    env = created.json()
    assert env["id"] != "mine"
    assert env["vhosts"][0]["httpContext"] == "/eu"
    assert env["vhosts"][0]["httpPort"] == 80
    assert environments(node)[name]["id"] == env["id"]
    assert admin(node, "GET", f"/environments/{env['id']}").json() == env

    body["displayName"] = "Europe"
    body["vhosts"].append({"host": "eu2.gw.example.com"})
    updated = admin(node, "PUT", f"/environments/{env['id']}", json=body)
    assert updated.status_code == 200, updated.text
    assert updated.json()["displayName"] == "Europe"
    assert len(environments(node)[name]["vhosts"]) == 2

    body["name"] = name + "x"
    assert admin(node, "PUT", f"/environments/{env['id']}", json=body).status_code == 400

    assert admin(node, "DELETE", f"/environments/{env['id']}").status_code == 200
    assert name not in environments(node)
    assert admin(node, "DELETE", f"/environments/{env['id']}").status_code == 404
    assert admin(node, "PUT", f"/environments/{env['id']}", json=body).status_code == 404


@pytest.mark.parametrize("body", [
    {"vhosts": [{"host": "x.example"}]},
    {"name": "has space", "vhosts": [{"host": "x.example"}]},
    {"name": "ok", "vhosts": []},
    {"name": "ok"},
    {"name": "ok", "vhosts": [{"host": "not a host"}]},
    {"name": "ok", "vhosts": [{"host": "x.example", "httpsPort": 0}]},
    {"name": "ok", "vhosts": "x.example"},
])
def test_invalid_environment_is_400(node, body):
    before = node.count("gateway_environments")
    response = admin(node, "POST", "/environments", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 400
    assert node.count("gateway_environments") == before


def test_duplicate_environment_is_409(node):
    response = admin(node, "POST", "/environments",
                     json={"name": "Default", "vhosts": [{"host": "other.example"}]})
    assert response.status_code == 409


def test_environment_with_deployments_cannot_be_deleted(node):
    name = new_name("busy-")
    env = admin(node, "POST", "/environments",
                json={"name": name, "vhosts": [{"host": "busy.example"}]}).json()
    api_id = insert_api(node)
    revision = str(uuid.uuid4())
    execute(node,
            "INSERT INTO api_revisions (id, api_id, revision_number, description, document, "
            f"openapi, created_time) VALUES ('{revision}', '{api_id}', 1, '', '{{}}', '', 1)",
            "INSERT INTO api_deployments (api_id, revision_id, environment, vhost, "
            f"display_on_devportal, deployed_time) VALUES ('{api_id}', '{revision}', '{name}', "
            "'busy.example', 1, 1)")
    assert admin(node, "DELETE", f"/environments/{env['id']}").status_code == 409


def test_environment_authorization(node):
    creator = create_user(node, ["creator"])
    subscriber = create_user(node, ["subscriber"])
    as_creator = (creator["userName"], creator["password"])
    assert admin(node, "GET", "/environments", auth=as_creator).status_code == 200
    assert admin(node, "POST", "/environments", auth=as_creator,
                 json={"name": "x", "vhosts": [{"host": "x"}]}).status_code == 403
    assert admin(node, "GET", "/environments",
                 auth=(subscriber["userName"], subscriber["password"])).status_code == 403
    assert admin(node, "GET", "/environments", auth=()).status_code == 401


# ---- deny policies ---------------------------------------------------------------------

@pytest.mark.parametrize("condition_type, value, stored", [
    ("API", "/pets/1.0.0", "/pets/1.0.0"),
    ("APPLICATION", "alice:PetsApp", "alice:PetsApp"),
    ("USER", "mallory", "mallory"),
    ("IP", {"fixedIp": "192.168.7.7", "invert": False},
     {"fixedIp": "192.168.7.7", "invert": False}),
    ("IP", "2001:DB8::9", {"fixedIp": "2001:db8::9", "invert": False}),
    ("IPRANGE", {"startingIp": "172.16.0.1", "endingIp": "172.16.0.99", "invert": True},
     {"startingIp": "172.16.0.1", "endingIp": "172.16.0.99", "invert": True}),
])
def test_deny_policy_lifecycle(node, condition_type, value, stored):
    created = admin(node, "POST", "/throttling/deny-policies",
                    json={"conditionType": condition_type, "conditionValue": value,
                          "conditionId": "mine"})
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["conditionId"] != "mine"
    assert policy["conditionValue"] == stored
    assert policy["conditionStatus"] is True
    path = f"/throttling/deny-policy/{policy['conditionId']}"
    assert admin(node, "GET", path).json() == policy
    listed = admin(node, "GET", "/throttling/deny-policies").json()
    assert listed["count"] == len(listed["list"])
    assert policy in listed["list"]

    again = admin(node, "POST", "/throttling/deny-policies",
                  json={"conditionType": condition_type, "conditionValue": value})
    assert again.status_code == 409

    disabled = admin(node, "PATCH", path, json={"conditionStatus": False})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["conditionStatus"] is False
    assert admin(node, "GET", path).json()["conditionStatus"] is False
    assert admin(node, "PATCH", path, json={}).status_code == 400
    assert admin(node, "PATCH", path, json={"conditionStatus": "no"}).status_code == 400

    assert admin(node, "DELETE", path).status_code == 200
    assert admin(node, "GET", path).status_code == 404
    assert admin(node, "PATCH", path, json={"conditionStatus": True}).status_code == 404
    assert admin(node, "DELETE", path).status_code == 404


@pytest.mark.parametrize("body", [
    {"conditionType": "API", "conditionValue": "pets"},
    {"conditionType": "APPLICATION", "conditionValue": "justaname"},
    {"conditionType": "USER", "conditionValue": "no spaces please"},
    {"conditionType": "IP", "conditionValue": "999.1.1.1"},
    {"conditionType": "IP", "conditionValue": {"fixedIp": "abc"}},
    {"conditionType": "IPRANGE", "conditionValue": {"startingIp": "10.0.0.9",
                                                    "endingIp": "10.0.0.1"}},
    {"conditionType": "IPRANGE", "conditionValue": {"startingIp": "10.0.0.1",
                                                    "endingIp": "::1"}},
    {"conditionType": "HOST", "conditionValue": "x"},
    {"conditionType": "USER"},
    {"conditionValue": "x"},
])
def test_invalid_deny_policy_is_400(node, body):
    before = node.count("deny_policies")
    response = admin(node, "POST", "/throttling/deny-policies", json=body)
    assert response.status_code == 400, response.text
    assert node.count("deny_policies") == before


def test_deny_policy_authorization(node):
    subscriber = create_user(node, ["subscriber"])
    auth = (subscriber["userName"], subscriber["password"])
    assert admin(node, "GET", "/throttling/deny-policies", auth=auth).status_code == 403
    assert admin(node, "POST", "/throttling/deny-policies", auth=auth,
                 json={"conditionType": "USER", "conditionValue": "bob"}).status_code == 403
    assert admin(node, "GET", "/throttling/deny-policies", auth=()).status_code == 401

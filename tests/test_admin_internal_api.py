"""The internal data API gateways pull from (/internal/data/v1/...): its credential, its
keyset paging, the runtime artifacts' lifecycle state, user authentication for Basic-secured
APIs, and revocations that outlive a restart."""

import base64
import uuid

import jwt
import pytest

import publisher_support as publisher
from admin_support import (INTERNAL_PASSWORD, INTERNAL_USER, admin, call, create_user, execute,
                           insert_api, insert_application, new_name, request_count_limit,
                           subscription_statement)
from devportal_support import sign_up

GATEWAY = (INTERNAL_USER, INTERNAL_PASSWORD)


@pytest.fixture(scope="module")
def gw_node(module_launcher):
    return module_launcher.new(sections={"internal_api": {"username": INTERNAL_USER,
                                                          "password": INTERNAL_PASSWORD}})


def pull(node, path, **params):
    """Every item of an internal list, page by page; returns (items, number of pages)."""
    items, pages, after = [], 0, ""
    while True:
        response = call(node, "GET", "/internal/data/v1" + path, auth=GATEWAY,
                        params={**params, "after": after} if after else params)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["list"]
        pages += 1
        assert pages < 1000
        if not body["next"]:
            return items, pages
        after = body["next"]


@pytest.mark.parametrize("auth", [(), ("gateway", "wrong"), ("admin", "e2e-admin-password"),
                                  ("", INTERNAL_PASSWORD)])
def test_wrong_or_missing_credential_is_401(gw_node, auth):
    response = call(gw_node, "GET", "/internal/data/v1/subscriptions", auth=auth)
    assert response.status_code == 401
    assert response.json()["code"] == 900901


def test_garbage_authorization_header_is_401(gw_node):
    for header in ["Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Bearer x"]:
        response = call(gw_node, "GET", "/internal/data/v1/environments", auth=(),
                        headers={"Authorization": header})
        assert response.status_code == 401


def test_without_configured_password_everyone_is_refused(node):
    # The shared node has no [internal_api] password.
    for auth in [(), ("gateway", ""), GATEWAY]:
        assert call(node, "GET", "/internal/data/v1/environments",
                    auth=auth).status_code == 401


def test_subscriptions_stream_across_pages(gw_node):
    api_id = insert_api(gw_node, offered=("Gold",))
    statements = []
    apps = []
    for _ in range(25):
        app_id = str(uuid.uuid4())
        apps.append(app_id)
        statements.append(
            "INSERT INTO applications (id, name, owner, throttling_policy, token_type, status, "
            f"document, created_time, updated_time) VALUES ('{app_id}', '{new_name('a')}', "
            "'admin', '10PerMin', 'JWT', 'APPROVED', '{}', 1, 1)")
        statements.append(subscription_statement(app_id, api_id, "Gold"))
        statements.append(
            "INSERT INTO application_key_mappings (id, application_id, key_type, client_id, "
            f"document, created_time) VALUES ('{uuid.uuid4()}', '{app_id}', 'PRODUCTION', "
            f"'{uuid.uuid4()}', '{{}}', 1)")
    execute(gw_node, *statements)

    subscriptions, pages = pull(gw_node, "/subscriptions", limit=10)
    assert pages == 3
    assert len(subscriptions) == 25
    ids = [s["id"] for s in subscriptions]
    assert ids == sorted(ids) and len(set(ids)) == 25
    assert {s["applicationId"] for s in subscriptions} == set(apps)
    assert all(s["apiId"] == api_id and s["throttlingPolicy"] == "Gold" for s in subscriptions)

    applications, pages = pull(gw_node, "/applications", limit=7)
    assert {a["id"] for a in applications} >= set(apps)
    assert pages >= 4
    mappings, _ = pull(gw_node, "/application-key-mappings", limit=1000)
    assert {m["applicationId"] for m in mappings} >= set(apps)
    assert all(m["keyType"] == "PRODUCTION" for m in mappings)


def test_limit_bounds(gw_node):
    for limit in ["0", "1001", "ten"]:
        response = call(gw_node, "GET", "/internal/data/v1/subscriptions", auth=GATEWAY,
                        params={"limit": limit})
        assert response.status_code == 400


def test_policies_deny_policies_and_environments(gw_node):
    policies, pages = pull(gw_node, "/policies/subscription", limit=2)
    assert {"Bronze", "Silver", "Gold", "Unlimited"} <= {p["policyName"] for p in policies}
    assert pages >= 2
    advanced, _ = pull(gw_node, "/policies/advanced")
    assert "10KPerMin" in {p["policyName"] for p in advanced}
    application, _ = pull(gw_node, "/policies/application")
    assert "50PerMin" in {p["policyName"] for p in application}

    created = admin(gw_node, "POST", "/throttling/deny-policies",
                    json={"conditionType": "USER", "conditionValue": "blocked-user"})
    assert created.status_code == 201
    deny, _ = pull(gw_node, "/deny-policies", limit=1)
    assert created.json() in deny

    environments, _ = pull(gw_node, "/environments")
    assert "Default" in {e["name"] for e in environments}


def test_revoked_tokens(gw_node):
    client = gw_node.register_client(grantType="client_credentials")
    tokens = []
    for _ in range(3):
        response = gw_node.token(client, {"grant_type": "client_credentials"})
        token = response.json()["access_token"]
        assert gw_node.revoke(client, token).status_code == 200
        tokens.append(gw_node.verify_jwt(token)["jti"])
    revoked, pages = pull(gw_node, "/revoked-tokens", limit=2)
    assert set(tokens) <= {r["jti"] for r in revoked}
    assert pages >= 2
    assert all(r["expiresAt"] > 0 for r in revoked)


def test_runtime_artifacts_of_an_environment(gw_node):
    env = new_name("edge-")
    assert admin(gw_node, "POST", "/environments",
                 json={"name": env, "vhosts": [{"host": "edge.example"}]}).status_code == 201
    deployed = []
    for i in range(3):
        api_id = insert_api(gw_node)
        revision = str(uuid.uuid4())
        execute(gw_node,
                "INSERT INTO api_revisions (id, api_id, revision_number, description, document, "
                f"openapi, created_time) VALUES ('{revision}', '{api_id}', 1, '', "
                f"'{{\"name\":\"api{i}\"}}', 'openapi: 3.0.0', 1)",
                "INSERT INTO api_deployments (api_id, revision_id, environment, vhost, "
                f"display_on_devportal, deployed_time) VALUES ('{api_id}', '{revision}', "
                f"'{env}', 'edge.example', 1, 1)")
        deployed.append((api_id, revision))
    artifacts, pages = pull(gw_node, "/runtime-artifacts", environment=env, limit=2)
    assert pages == 2
    assert sorted((a["apiId"], a["revisionId"]) for a in artifacts) == sorted(deployed)
    assert all(a["environment"] == env and a["vhost"] == "edge.example" for a in artifacts)
    assert {a["api"]["name"] for a in artifacts} == {"api0", "api1", "api2"}
    assert artifacts[0]["openapi"] == "openapi: 3.0.0"

    assert call(gw_node, "GET", "/internal/data/v1/runtime-artifacts",
                auth=GATEWAY).status_code == 400
    assert call(gw_node, "GET", "/internal/data/v1/runtime-artifacts", auth=GATEWAY,
                params={"environment": "nowhere"}).status_code == 404

    # One API's artifact, as a gateway re-reads it after an event: the same item as listed.
    api_id, revision = deployed[1]
    one = call(gw_node, "GET", f"/internal/data/v1/runtime-artifacts/{api_id}", auth=GATEWAY,
               params={"environment": env})
    assert one.status_code == 200, one.text
    assert one.json() == next(a for a in artifacts if a["apiId"] == api_id)
    for params, status in [({}, 400), ({"environment": "nowhere"}, 404),
                           ({"environment": "Default"}, 404)]:
        refused = call(gw_node, "GET", f"/internal/data/v1/runtime-artifacts/{api_id}",
                       auth=GATEWAY, params=params)
        assert refused.status_code == status, (params, refused.text)
        assert refused.json()["code"] == status, refused.text
    assert call(gw_node, "GET", f"/internal/data/v1/runtime-artifacts/{uuid.uuid4()}",
                auth=GATEWAY, params={"environment": env}).status_code == 404
    assert call(gw_node, "GET", f"/internal/data/v1/runtime-artifacts/{api_id}", auth=(),
                params={"environment": env}).status_code == 401


def test_runtime_artifacts_carry_the_apis_current_lifecycle_state(gw_node):
    # A lifecycle change makes no revision: the gateway learns it from lifeCycleStatus.
    env = new_name("life-")
    assert admin(gw_node, "POST", "/environments",
                 json={"name": env, "vhosts": [{"host": "life.example"}]}).status_code == 201
    api = publisher.create_api(gw_node)
    revision = publisher.call(gw_node, "POST", f"/apis/{api['id']}/revisions", json={})
    assert revision.status_code == 201, revision.text
    deployed = publisher.call(gw_node, "POST", f"/apis/{api['id']}/deploy-revision",
                              params={"revisionId": revision.json()["id"]}, json=[{"name": env}])
    assert deployed.status_code == 201, deployed.text

    [artifact], _ = pull(gw_node, "/runtime-artifacts", environment=env)
    assert artifact["lifeCycleStatus"] == "CREATED"
    for action in ("Publish", "Block"):
        assert publisher.change_lifecycle(gw_node, api["id"], action).status_code == 200
    [artifact], _ = pull(gw_node, "/runtime-artifacts", environment=env)
    assert artifact["lifeCycleStatus"] == "BLOCKED"
    assert artifact["revisionId"] == revision.json()["id"]
    assert artifact["api"]["lifeCycleStatus"] == "CREATED"  # the revision's own copy


def authenticate(node, body, auth=GATEWAY, **kwargs):
    return call(node, "POST", "/internal/data/v1/users/authenticate", auth=auth, json=body,
                **kwargs)


def test_users_authenticate_answers_the_user_and_its_roles(gw_node):
    user = create_user(gw_node, ["subscriber", "creator"])
    response = authenticate(gw_node, {"username": user["userName"],
                                      "password": user["password"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["username"] == user["userName"]
    assert sorted(body["roles"]) == ["creator", "subscriber"]


def test_users_authenticate_refuses_wrong_credentials(gw_node):
    user = create_user(gw_node, ["subscriber"])
    for body in ({"username": user["userName"], "password": "not-the-password"},
                 {"username": new_name("nobody"), "password": user["password"]},
                 {"username": user["userName"], "password": ""},
                 {"username": user["userName"], "password": "p" * 1025}):
        response = authenticate(gw_node, body)
        assert response.status_code == 401, body
        assert response.json()["code"] == 900901
        assert "WWW-Authenticate" not in response.headers
    # The gateway's own credential refused is told apart by its challenge.
    for auth in [(), ("gateway", "wrong"), ("admin", "e2e-admin-password")]:
        response = authenticate(gw_node, {"username": user["userName"],
                                          "password": user["password"]}, auth=auth)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_users_authenticate_refuses_malformed_bodies(gw_node):
    for body in ([], {"username": "someone"}, {"username": 1, "password": "x"},
                 {"username": "someone", "password": "p" * 5000}):
        response = authenticate(gw_node, body)
        assert response.status_code == 400, body
        assert response.json()["code"] == 400
    response = call(gw_node, "POST", "/internal/data/v1/users/authenticate", auth=GATEWAY,
                    data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_a_deleted_user_no_longer_authenticates(gw_node):
    user = create_user(gw_node, ["subscriber"])
    credentials = {"username": user["userName"], "password": user["password"]}
    assert authenticate(gw_node, credentials).status_code == 200
    assert call(gw_node, "DELETE", f"/scim2/Users/{user['id']}").status_code == 204
    assert authenticate(gw_node, credentials).status_code == 401


def test_revoked_api_keys_are_listed_also_after_a_restart(launcher):
    node = launcher.new(sections={"internal_api": {"username": INTERNAL_USER,
                                                   "password": INTERNAL_PASSWORD}})
    developer = sign_up(node)
    app_id = developer.create_app()["applicationId"]
    path = f"/applications/{app_id}/api-keys/PRODUCTION"
    key = developer.post(path + "/generate", json={"validityPeriod": 3600}).json()["apikey"]
    jti = jwt.decode(key, options={"verify_signature": False})["jti"]
    assert developer.post(path + "/revoke", json={"apikey": key}).status_code == 200

    revoked, _ = pull(node, "/revoked-tokens")
    assert jti in {r["jti"] for r in revoked}
    node.restart()
    revoked, _ = pull(node, "/revoked-tokens")
    [entry] = [r for r in revoked if r["jti"] == jti]
    assert entry["expiresAt"] > 0


def test_one_application_is_read_with_its_keys_and_subscriptions(gw_node):
    api_id = insert_api(gw_node, offered=("Gold",))
    app_id = insert_application(gw_node)
    client_id = str(uuid.uuid4())
    execute(gw_node, subscription_statement(app_id, api_id, "Gold"),
            "INSERT INTO application_key_mappings (id, application_id, key_type, client_id, "
            f"document, created_time) VALUES ('{uuid.uuid4()}', '{app_id}', 'SANDBOX', "
            f"'{client_id}', '{{}}', 1)")

    by_id = call(gw_node, "GET", f"/internal/data/v1/applications/{app_id}", auth=GATEWAY)
    assert by_id.status_code == 200, by_id.text
    body = by_id.json()
    assert body["id"] == app_id and body["status"] == "APPROVED"
    assert [(k["clientId"], k["keyType"]) for k in body["keyMappings"]] == [(client_id, "SANDBOX")]
    assert [(s["apiId"], s["throttlingPolicy"]) for s in body["subscriptions"]] == [(api_id, "Gold")]

    # The same application, found by its OAuth client.
    by_client = call(gw_node, "GET", f"/internal/data/v1/clients/{client_id}/application",
                     auth=GATEWAY)
    assert by_client.status_code == 200, by_client.text
    assert by_client.json() == body

    subscription_id = body["subscriptions"][0]["id"]
    one = call(gw_node, "GET", f"/internal/data/v1/subscriptions/{subscription_id}", auth=GATEWAY)
    assert one.status_code == 200, one.text
    assert one.json()["applicationId"] == app_id


def test_items_that_do_not_exist_are_404_and_need_the_credential(gw_node):
    for path in [f"/applications/{uuid.uuid4()}", f"/clients/{uuid.uuid4()}/application",
                 f"/subscriptions/{uuid.uuid4()}"]:
        missing = call(gw_node, "GET", "/internal/data/v1" + path, auth=GATEWAY)
        assert missing.status_code == 404, (path, missing.text)
        assert call(gw_node, "GET", "/internal/data/v1" + path, auth=()).status_code == 401


def test_the_cluster_id_is_stable_and_needs_the_credential(gw_node):
    first = call(gw_node, "GET", "/internal/data/v1/cluster", auth=GATEWAY)
    assert first.status_code == 200, first.text
    cluster_id = first.json()["clusterId"]
    assert len(cluster_id) >= 16
    assert call(gw_node, "GET", "/internal/data/v1/cluster", auth=GATEWAY).json() == {
        "clusterId": cluster_id}
    assert call(gw_node, "GET", "/internal/data/v1/cluster", auth=()).status_code == 401

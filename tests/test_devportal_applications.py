"""Applications: CRUD, names unique per owner, application tiers checked, read-only fields
ignored, and another user's application is 404 for every operation."""

import uuid

import pytest

from devportal_support import error_body, sign_up


@pytest.fixture(scope="module")
def alice(node):
    return sign_up(node)


@pytest.fixture(scope="module")
def bob(node):
    return sign_up(node)


def test_create_get_list_update_delete(node, alice):
    app = alice.create_app("weather", "10PerMin", description="forecasts", tokenType="JWT",
                           attributes={"team": "blue"})
    assert app["name"] == "weather"
    assert app["throttlingPolicy"] == "10PerMin"
    assert app["owner"] == alice.username
    assert app["status"] == "APPROVED"
    assert app["attributes"] == {"team": "blue"}
    app_id = app["applicationId"]

    got = alice.get(f"/applications/{app_id}").json()
    assert got["description"] == "forecasts"
    listed = alice.get("/applications").json()
    assert listed["count"] >= 1
    assert app_id in [a["applicationId"] for a in listed["list"]]
    assert "pagination" in listed

    updated = alice.put(f"/applications/{app_id}",
                        json={"name": "weather2", "throttlingPolicy": "Unlimited",
                              "description": "new"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "weather2"
    assert alice.get(f"/applications/{app_id}").json()["throttlingPolicy"] == "Unlimited"

    assert alice.delete(f"/applications/{app_id}").status_code == 200
    assert alice.get(f"/applications/{app_id}").status_code == 404
    assert node.count("applications", f"id = '{app_id}'") == 0


def test_duplicate_name_for_the_same_owner_is_409_but_fine_for_another(alice, bob):
    name = "dup-" + uuid.uuid4().hex[:6]
    alice.create_app(name)
    response = alice.post("/applications", json={"name": name, "throttlingPolicy": "Unlimited"})
    assert response.status_code == 409
    error_body(response)
    bob.create_app(name)


def test_unknown_application_tier_is_400(node, alice):
    name = "tier-" + uuid.uuid4().hex[:6]
    response = alice.post("/applications", json={"name": name, "throttlingPolicy": "Gold"})
    assert response.status_code == 400
    assert node.count("applications", f"name = '{name}'") == 0


@pytest.mark.parametrize("body", [
    {"throttlingPolicy": "Unlimited"},
    {"name": "", "throttlingPolicy": "Unlimited"},
    {"name": "x" * 101, "throttlingPolicy": "Unlimited"},
    {"name": "ok", "throttlingPolicy": "Unlimited", "tokenType": "SAML"},
    {"name": "ok", "throttlingPolicy": "Unlimited", "attributes": {"a": 1}},
    {"name": 5, "throttlingPolicy": "Unlimited"},
])
def test_invalid_bodies_are_400(alice, body):
    response = alice.post("/applications", json=body)
    assert response.status_code == 400, response.text
    error_body(response)


def test_read_only_fields_are_ignored(alice):
    app = alice.create_app(owner="someone-else", applicationId="fixed-id", status="BLOCKED",
                           subscriptionCount=99)
    assert app["owner"] == alice.username
    assert app["applicationId"] != "fixed-id"
    assert app["status"] == "APPROVED"
    assert app["subscriptionCount"] == 0


def test_another_users_application_is_404_everywhere(node, alice, bob):
    app_id = alice.create_app()["applicationId"]
    assert bob.get(f"/applications/{app_id}").status_code == 404
    assert bob.put(f"/applications/{app_id}",
                   json={"name": "stolen", "throttlingPolicy": "Unlimited"}).status_code == 404
    assert bob.delete(f"/applications/{app_id}").status_code == 404
    assert bob.post(f"/applications/{app_id}/generate-keys",
                    json={"keyType": "PRODUCTION",
                          "grantTypesToBeSupported": ["client_credentials"]}).status_code == 404
    assert bob.get(f"/applications/{app_id}/oauth-keys").status_code == 404
    assert bob.post(f"/applications/{app_id}/api-keys/PRODUCTION/generate",
                    json={}).status_code == 404
    assert app_id not in [a["applicationId"] for a in bob.get("/applications").json()["list"]]
    assert alice.get(f"/applications/{app_id}").status_code == 200


def test_anonymous_and_wrong_password_are_401(node, alice):
    assert node.get("/api/am/devportal/v3/applications").status_code == 401
    assert node.get("/api/am/devportal/v3/applications",
                    auth=(alice.username, "wrong")).status_code == 401


def test_delete_removes_the_keys_from_the_key_manager(node, alice):
    app_id = alice.create_app()["applicationId"]
    keys = alice.generate_keys(app_id)
    client = {"clientId": keys["consumerKey"], "clientSecret": keys["consumerSecret"]}
    assert node.token(client, {"grant_type": "client_credentials"}).status_code == 200
    assert alice.delete(f"/applications/{app_id}").status_code == 200
    assert node.token(client, {"grant_type": "client_credentials"}).status_code == 401
    assert node.count("application_key_mappings", f"application_id = '{app_id}'") == 0


def test_application_tiers_are_listed(node, alice):
    body = alice.get("/throttling-policies/application").json()
    names = [p["name"] for p in body["list"]]
    assert {"10PerMin", "Unlimited"} <= set(names)
    assert alice.get("/throttling-policies/nonsense").status_code == 400


def test_tokens_follow_the_applications_new_name_and_tier(launcher):
    # No client lookup cache, so that the next token sees the change at once.
    node = launcher.new(sections={"oauth": {"lookup_cache_seconds": 0}})
    alice = sign_up(node)
    app = alice.create_app("before", "10PerMin")
    keys = alice.generate_keys(app["applicationId"])
    response = alice.put(f"/applications/{app['applicationId']}",
                         json={"name": "after", "throttlingPolicy": "50PerMin"})
    assert response.status_code == 200, response.text
    client = {"clientId": keys["consumerKey"], "clientSecret": keys["consumerSecret"]}
    token = node.token(client, {"grant_type": "client_credentials"}).json()["access_token"]
    claims = node.verify_jwt(token)
    assert claims["application"]["name"] == "after"
    assert claims["application"]["tier"] == "50PerMin"

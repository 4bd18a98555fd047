"""Subscriptions: the tier must be one the API offers, the API must be PUBLISHED or
PROTOTYPED, one per application and API, and only the application's owner sees them."""

import pytest

from devportal_support import error_body, insert_api, sign_up


@pytest.fixture(scope="module")
def alice(node):
    return sign_up(node)


@pytest.fixture(scope="module")
def bob(node):
    return sign_up(node)


@pytest.fixture(scope="module")
def api_id(node):
    return insert_api(node, tiers=("Gold", "Bronze"))


def test_subscribe_list_update_unsubscribe(node, alice, api_id):
    app_id = alice.create_app()["applicationId"]
    response = alice.subscribe(app_id, api_id, "Gold")
    assert response.status_code == 201, response.text
    sub = response.json()
    assert sub["status"] == "UNBLOCKED"
    assert sub["throttlingPolicy"] == "Gold"
    assert sub["apiId"] == api_id and sub["applicationId"] == app_id
    assert sub["apiInfo"]["id"] == api_id
    sub_id = sub["subscriptionId"]

    by_app = alice.get("/subscriptions", params={"applicationId": app_id}).json()
    assert [s["subscriptionId"] for s in by_app["list"]] == [sub_id]
    by_api = alice.get("/subscriptions", params={"apiId": api_id}).json()
    assert sub_id in [s["subscriptionId"] for s in by_api["list"]]
    assert alice.get(f"/applications/{app_id}").json()["subscriptionCount"] == 1

    updated = alice.put(f"/subscriptions/{sub_id}",
                        json={"applicationId": app_id, "apiId": api_id,
                              "throttlingPolicy": "Bronze", "status": "BLOCKED"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["throttlingPolicy"] == "Bronze"
    assert updated.json()["status"] == "UNBLOCKED"
    assert alice.put(f"/subscriptions/{sub_id}",
                     json={"throttlingPolicy": "Unlimited"}).status_code == 400

    assert alice.delete(f"/subscriptions/{sub_id}").status_code == 200
    assert alice.get(f"/subscriptions/{sub_id}").status_code == 404
    assert node.count("subscriptions", f"id = '{sub_id}'") == 0


def test_tier_the_api_does_not_offer_is_400(node, alice, api_id):
    app_id = alice.create_app()["applicationId"]
    for tier in ("Unlimited", "NoSuchTier"):
        response = alice.subscribe(app_id, api_id, tier)
        assert response.status_code == 400
        error_body(response)
    assert node.count("subscriptions", f"application_id = '{app_id}'") == 0


@pytest.mark.parametrize("status,code", [("DEPRECATED", 400), ("CREATED", 404),
                                         ("BLOCKED", 404), ("RETIRED", 404),
                                         ("PROTOTYPED", 201)])
def test_only_published_and_prototyped_apis_are_subscribable(node, alice, status, code):
    api = insert_api(node, status=status)
    app_id = alice.create_app()["applicationId"]
    assert alice.subscribe(app_id, api).status_code == code


def test_duplicate_subscription_is_409(node, alice, api_id):
    app_id = alice.create_app()["applicationId"]
    assert alice.subscribe(app_id, api_id).status_code == 201
    response = alice.subscribe(app_id, api_id, "Bronze")
    assert response.status_code == 409
    error_body(response)
    assert node.count("subscriptions", f"application_id = '{app_id}'") == 1


def test_another_users_application_and_subscription_are_404(alice, bob, api_id):
    app_id = alice.create_app()["applicationId"]
    sub_id = alice.subscribe(app_id, api_id).json()["subscriptionId"]
    bob_app = bob.create_app()["applicationId"]
    assert bob.subscribe(app_id, api_id).status_code == 404
    assert bob.get(f"/subscriptions/{sub_id}").status_code == 404
    assert bob.put(f"/subscriptions/{sub_id}", json={"throttlingPolicy": "Bronze"}).status_code \
        == 404
    assert bob.delete(f"/subscriptions/{sub_id}").status_code == 404
    assert bob.get("/subscriptions", params={"applicationId": app_id}).status_code == 404
    assert sub_id not in [s["subscriptionId"] for s in
                          bob.get("/subscriptions", params={"apiId": api_id}).json()["list"]]
    assert alice.get(f"/subscriptions/{sub_id}").status_code == 200
    # Bob cannot move his subscription onto Alice's application either.
    bob_sub = bob.subscribe(bob_app, api_id).json()["subscriptionId"]
    assert bob.put(f"/subscriptions/{bob_sub}",
                   json={"applicationId": app_id, "throttlingPolicy": "Gold"}).status_code == 400


def test_multiple_is_all_or_nothing(node, alice, api_id):
    other = insert_api(node)
    app_id = alice.create_app()["applicationId"]
    assert alice.subscribe(app_id, api_id).status_code == 201
    batch = [{"applicationId": app_id, "apiId": other, "throttlingPolicy": "Gold"},
             {"applicationId": app_id, "apiId": api_id, "throttlingPolicy": "Gold"}]
    assert alice.post("/subscriptions/multiple", json=batch).status_code == 409
    assert node.count("subscriptions", f"application_id = '{app_id}'") == 1
    fresh = alice.create_app()["applicationId"]
    for item in batch:
        item["applicationId"] = fresh
    response = alice.post("/subscriptions/multiple", json=batch)
    assert response.status_code == 200, response.text
    assert len(response.json()) == 2
    assert alice.post("/subscriptions/multiple", json={"not": "an array"}).status_code == 400


def test_deleting_the_application_removes_its_subscriptions(node, alice, api_id):
    app_id = alice.create_app()["applicationId"]
    assert alice.subscribe(app_id, api_id).status_code == 201
    assert alice.delete(f"/applications/{app_id}").status_code == 200
    assert node.count("subscriptions", f"application_id = '{app_id}'") == 0


def test_subscription_tiers_are_listed(alice):
    names = [p["name"] for p in alice.get("/throttling-policies/subscription").json()["list"]]
    assert {"Gold", "Bronze", "Unlimited"} <= set(names)


def test_api_key_lists_the_subscribed_apis(node, alice, api_id):
    app_id = alice.create_app()["applicationId"]
    assert alice.subscribe(app_id, api_id, "Gold").status_code == 201
    key = alice.post(f"/applications/{app_id}/api-keys/PRODUCTION/generate", json={}).json()
    import base64, json
    payload = key["apikey"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert [a["subscriptionTier"] for a in claims["subscribedAPIs"]] == ["Gold"]
    assert "Gold" in claims["tierInfo"]

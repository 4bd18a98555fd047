"""The whole story through REST only: the administrator creates, publishes and deploys an API
with the publisher; a developer signs up, discovers it, creates an application, subscribes,
generates keys and gets a token; the publisher sees and blocks the subscription."""

import uuid

import pytest

from devportal_support import DEVPORTAL, sign_up

PUBLISHER = "/api/am/publisher/v4"
# A 1x1 transparent PNG.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082")


def admin(node, method, path, **kwargs):
    return node.request(method, node.https_url + PUBLISHER + path, auth=node.admin_auth,
                        **kwargs)


@pytest.fixture(scope="module")
def published_api(node):
    name = "Story" + uuid.uuid4().hex[:8]
    body = {"name": name, "context": "/" + name.lower(), "version": "1.0.0",
            "description": "the story API", "tags": ["story"],
            "endpointConfig": {"endpoint_type": "http",
                               "production_endpoints": {"url": "https://backend.example/v1"}},
            "policies": ["Gold", "Unlimited"]}
    created = admin(node, "POST", "/apis", json=body)
    assert created.status_code == 201, created.text
    api = created.json()
    revision = admin(node, "POST", f"/apis/{api['id']}/revisions",
                     json={"description": "first"})
    assert revision.status_code == 201, revision.text
    deployed = admin(node, "POST", f"/apis/{api['id']}/deploy-revision",
                     params={"revisionId": revision.json()["id"]},
                     json=[{"name": "Default", "displayOnDevportal": True}])
    assert deployed.status_code == 201, deployed.text
    doc = admin(node, "POST", f"/apis/{api['id']}/documents",
                json={"name": "Guide", "type": "HOWTO", "sourceType": "INLINE",
                      "visibility": "API_LEVEL", "inlineContent": "How to call it"})
    assert doc.status_code == 201, doc.text
    hidden = admin(node, "POST", f"/apis/{api['id']}/documents",
                   json={"name": "Internal", "type": "OTHER", "otherTypeName": "notes",
                         "sourceType": "INLINE", "visibility": "PRIVATE",
                         "inlineContent": "publisher only"})
    assert hidden.status_code == 201, hidden.text
    thumb = admin(node, "PUT", f"/apis/{api['id']}/thumbnail",
                  files={"file": ("t.png", PNG, "image/png")})
    assert thumb.status_code in (200, 201), thumb.text
    api["documentId"] = doc.json()["documentId"]
    api["hiddenDocumentId"] = hidden.json()["documentId"]
    # Not in the portal before it is published.
    assert node.get(f"{DEVPORTAL}/apis/{api['id']}").status_code == 404
    published = admin(node, "POST", "/apis/change-lifecycle",
                      params={"apiId": api["id"], "action": "Publish"})
    assert published.status_code == 200, published.text
    return api


def test_publish_discover_subscribe_generate_keys_and_token(node, published_api):
    dev = sign_up(node)
    api_id = published_api["id"]

    found = dev.get("/apis", params={"query": "name:" + published_api["name"]}).json()
    assert [a["id"] for a in found["list"]] == [api_id]
    detail = dev.get(f"/apis/{api_id}").json()
    assert detail["lifeCycleStatus"] == "PUBLISHED"
    assert {t["tierName"] for t in detail["tiers"]} == {"Gold", "Unlimited"}
    assert "story" in detail["tags"]
    assert [e["environmentName"] for e in detail["endpointURLs"]] == ["Default"]
    assert detail["endpointURLs"][0]["URLs"]["https"].endswith("/1.0.0")

    app = dev.create_app("story-app", "50PerMin")
    subscribed = dev.subscribe(app["applicationId"], api_id, "Gold")
    assert subscribed.status_code == 201, subscribed.text
    assert subscribed.json()["apiInfo"]["name"] == published_api["name"]

    keys = dev.generate_keys(app["applicationId"])
    token = node.token({"clientId": keys["consumerKey"], "clientSecret": keys["consumerSecret"]},
                       {"grant_type": "client_credentials"})
    assert token.status_code == 200, token.text
    claims = node.verify_jwt(token.json()["access_token"])
    assert claims["application"]["uuid"] == app["applicationId"]
    assert claims["application"]["tier"] == "50PerMin"

    key = dev.post(f"/applications/{app['applicationId']}/api-keys/PRODUCTION/generate",
                   json={"validityPeriod": 600})
    assert key.status_code == 200, key.text


def test_documents_and_thumbnail_reach_the_portal(node, published_api):
    api_id = published_api["id"]
    docs = node.get(f"{DEVPORTAL}/apis/{api_id}/documents").json()
    assert [d["name"] for d in docs["list"]] == ["Guide"]
    content = node.get(f"{DEVPORTAL}/apis/{api_id}/documents/{published_api['documentId']}"
                       "/content")
    assert content.status_code == 200
    assert content.text == "How to call it"
    assert node.get(f"{DEVPORTAL}/apis/{api_id}/documents/"
                    f"{published_api['hiddenDocumentId']}").status_code == 404
    thumbnail = node.get(f"{DEVPORTAL}/apis/{api_id}/thumbnail")
    assert thumbnail.status_code == 200
    assert thumbnail.content == PNG
    assert thumbnail.headers["Content-Type"] == "image/png"
    assert node.get(f"{DEVPORTAL}/apis/{api_id}").json()["hasThumbnail"] is True


def test_publisher_sees_and_blocks_the_subscription(node, published_api):
    dev = sign_up(node)
    app_id = dev.create_app()["applicationId"]
    sub_id = dev.subscribe(app_id, published_api["id"], "Unlimited").json()["subscriptionId"]
    seen = admin(node, "GET", "/subscriptions", params={"apiId": published_api["id"]}).json()
    assert sub_id in [s["subscriptionId"] for s in seen["list"]]
    blocked = admin(node, "POST", "/subscriptions/block-subscription",
                    params={"subscriptionId": sub_id, "blockState": "BLOCKED"})
    assert blocked.status_code == 200, blocked.text
    assert dev.get(f"/subscriptions/{sub_id}").json()["status"] == "BLOCKED"
    # Changing the tier does not unblock it.
    changed = dev.put(f"/subscriptions/{sub_id}", json={"throttlingPolicy": "Gold"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "BLOCKED"


def test_deprecated_api_stays_visible_but_takes_no_new_subscriptions(node):
    name = "Dep" + uuid.uuid4().hex[:8]
    api = admin(node, "POST", "/apis",
                json={"name": name, "context": "/" + name.lower(), "version": "1.0.0",
                      "policies": ["Gold"],
                      "endpointConfig": {"endpoint_type": "http", "production_endpoints":
                                         {"url": "https://backend.example/v1"}}}).json()
    for action in ("Publish", "Deprecate"):
        response = admin(node, "POST", "/apis/change-lifecycle",
                         params={"apiId": api["id"], "action": action})
        assert response.status_code == 200, response.text
    dev = sign_up(node)
    assert dev.get(f"/apis/{api['id']}").json()["lifeCycleStatus"] == "DEPRECATED"
    app_id = dev.create_app()["applicationId"]
    assert dev.subscribe(app_id, api["id"], "Gold").status_code == 400

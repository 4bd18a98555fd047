"""The publish → subscribe → keys → token story through REST only: an API imported and
published through the publisher, found and subscribed to in the developer portal, and pulled
as a runtime artifact by a gateway; then blocked by the publisher."""

from __future__ import annotations

import pytest

from devportal_support import sign_up
from publisher_support import DATA, call, change_lifecycle, import_openapi, new_name

GATEWAY = ("gateway", "e2e-story-internal-secret")


@pytest.fixture(scope="module")
def story_node(module_launcher):
    return module_launcher.new(sections={"internal_api": {"username": GATEWAY[0],
                                                          "password": GATEWAY[1]}})


def test_publish_subscribe_generate_keys_and_token(story_node):
    node = story_node
    name = new_name("Petstore")
    imported = import_openapi(node, (DATA / "petstore-3.0.yaml").read_text(), "petstore.yaml",
                              name=name, context="/" + name.lower(), version="1.0.0",
                              policies=["Gold", "Unlimited"],
                              endpointConfig={"endpoint_type": "http", "production_endpoints":
                                              {"url": "https://pets.example.com/v1"}})
    assert imported.status_code == 201, imported.text
    api = imported.json()
    revision = call(node, "POST", f"/apis/{api['id']}/revisions", json={"description": "go"})
    assert revision.status_code == 201, revision.text
    deployed = call(node, "POST", f"/apis/{api['id']}/deploy-revision",
                    params={"revisionId": revision.json()["id"]}, json=[{"name": "Default"}])
    assert deployed.status_code == 201, deployed.text
    assert change_lifecycle(node, api["id"], "Publish").status_code == 200

    developer = sign_up(node)
    found = developer.get("/apis", params={"query": name})
    assert found.status_code == 200, found.text
    assert api["id"] in [a["id"] for a in found.json()["list"]]
    swagger = developer.get(f"/apis/{api['id']}/swagger")
    assert swagger.status_code == 200 and "/pets/{petId}" in swagger.text

    app = developer.create_app()
    subscribed = developer.subscribe(app["applicationId"], api["id"], "Gold")
    assert subscribed.status_code == 201, subscribed.text
    keys = developer.generate_keys(app["applicationId"])
    token = node.token({"clientId": keys["consumerKey"], "clientSecret": keys["consumerSecret"]},
                       {"grant_type": "client_credentials", "scope": "pets:read"})
    assert token.status_code == 200, token.text
    assert "pets:read" in token.json()["scope"].split()  # an API-defined scope

    artifacts = node.request("GET", node.https_url + "/internal/data/v1/runtime-artifacts",
                             auth=GATEWAY, params={"environment": "Default"})
    assert artifacts.status_code == 200, artifacts.text
    mine = [a for a in artifacts.json()["list"] if a["apiId"] == api["id"]]
    assert len(mine) == 1 and mine[0]["revisionId"] == revision.json()["id"]

    subs = call(node, "GET", "/subscriptions", params={"apiId": api["id"]}).json()
    assert subs["count"] == 1
    sub_id = subs["list"][0]["subscriptionId"]
    assert subs["list"][0]["applicationInfo"]["subscriber"] == developer.username
    assert call(node, "POST", "/subscriptions/block-subscription",
                params={"subscriptionId": sub_id, "blockState": "BLOCKED"}).status_code == 200
    assert call(node, "DELETE", f"/apis/{api['id']}").status_code == 409

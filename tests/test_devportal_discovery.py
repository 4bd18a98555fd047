"""Discovery: only PUBLISHED, PROTOTYPED and DEPRECATED APIs, visibility respected (anonymous
readers see PUBLIC ones), search, tags, documents, definitions, ratings and comments."""

import uuid

import pytest
import requests

from devportal_support import DEVPORTAL, error_body, insert_api, sign_up


@pytest.fixture(scope="module")
def tag():
    return "t" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def apis(node, tag):
    return {
        "published": insert_api(node, "Pets" + tag, tags=(tag, "animals"),
                                description="all about " + tag,
                                openapi='{"openapi": "3.0.1", "info": {"title": "x"}}'),
        "prototyped": insert_api(node, "Proto" + tag, status="PROTOTYPED", tags=(tag,)),
        "deprecated": insert_api(node, "Old" + tag, status="DEPRECATED", tags=(tag,)),
        "created": insert_api(node, "New" + tag, status="CREATED", tags=(tag,)),
        "restricted": insert_api(node, "Secret" + tag, visibility="RESTRICTED",
                                 visible_roles=["publisher"], tags=(tag,)),
    }


@pytest.fixture(scope="module")
def alice(node):
    return sign_up(node)


def anonymous(node, path, **kwargs):
    return node.get(DEVPORTAL + path, **kwargs)


def listed_ids(response):
    assert response.status_code == 200, response.text
    return {a["id"] for a in response.json()["list"]}


def test_anonymous_list_shows_public_portal_states_only(node, apis, tag):
    ids = listed_ids(anonymous(node, "/apis", params={"query": "tags:" + tag}))
    assert ids == {apis["published"], apis["prototyped"], apis["deprecated"]}


def test_restricted_api_is_visible_to_its_roles_only(node, apis, alice, tag):
    assert apis["restricted"] not in listed_ids(alice.get("/apis", params={"query": "tags:" + tag}))
    assert alice.get(f"/apis/{apis['restricted']}").status_code == 404
    admin_ids = listed_ids(anonymous(node, "/apis", params={"query": "tags:" + tag},
                                     auth=node.admin_auth))
    assert apis["restricted"] in admin_ids


def test_hidden_apis_are_404(node, apis):
    assert anonymous(node, f"/apis/{apis['created']}").status_code == 404
    error_body(anonymous(node, f"/apis/{apis['restricted']}"))
    assert anonymous(node, f"/apis/{uuid.uuid4()}").status_code == 404


def test_api_detail_has_the_devportal_shape(node, apis, tag):
    body = anonymous(node, f"/apis/{apis['published']}").json()
    assert body["name"] == "Pets" + tag
    assert body["lifeCycleStatus"] == "PUBLISHED"
    assert set(body["tags"]) == {tag, "animals"}
    assert {t["tierName"] for t in body["tiers"]} == {"Gold", "Unlimited"}
    assert body["endpointURLs"] == []
    assert body["isSubscriptionAvailable"] is True


def test_search_by_name_text_and_paging(node, apis, tag):
    assert listed_ids(anonymous(node, "/apis", params={"query": "name:pets" + tag})) == \
        {apis["published"]}
    assert listed_ids(anonymous(node, "/apis", params={"query": "about " + tag})) == \
        {apis["published"]}
    page = anonymous(node, "/apis", params={"query": "tags:" + tag, "limit": 2}).json()
    assert page["count"] == 2
    assert page["pagination"]["total"] == 3
    assert anonymous(node, "/apis", params={"limit": 0}).status_code == 400
    assert anonymous(node, "/apis", params={"query": "bogus:x"}).status_code == 400
    search = anonymous(node, "/search", params={"query": "tags:" + tag}).json()
    assert {r["id"] for r in search["list"]} == {apis["published"], apis["prototyped"],
                                                  apis["deprecated"]}


def test_the_list_shows_each_apis_tags_for_its_card(node, apis, tag):
    listed = anonymous(node, "/apis", params={"query": "tags:" + tag}).json()["list"]
    tags = {a["id"]: a["tags"] for a in listed}
    assert tags[apis["published"]] == sorted([tag, "animals"])
    assert tags[apis["prototyped"]] == [tag]


def test_tags_count_visible_apis(node, apis, tag):
    tags = {t["value"]: t["count"] for t in anonymous(node, "/tags",
                                                      params={"limit": 1000}).json()["list"]}
    assert tags[tag] == 3


def test_swagger_and_missing_documents(node, apis):
    response = anonymous(node, f"/apis/{apis['published']}/swagger")
    assert response.status_code == 200
    assert response.json()["openapi"] == "3.0.1"
    assert anonymous(node, f"/apis/{apis['prototyped']}/swagger").status_code == 404
    assert anonymous(node, f"/apis/{apis['created']}/swagger").status_code == 404
    docs = anonymous(node, f"/apis/{apis['published']}/documents").json()
    assert docs["count"] == 0
    assert anonymous(node, f"/apis/{apis['published']}/thumbnail").status_code == 404


def test_ratings_one_per_user(node, apis, alice):
    api = apis["published"]
    path = f"/apis/{api}/user-rating"
    assert alice.put(path, json={"rating": 4}).status_code == 200
    assert alice.put(path, json={"rating": 2}).json()["rating"] == 2
    assert alice.put(path, json={"rating": 6}).status_code == 400
    assert alice.get(path).json()["rating"] == 2
    bob = sign_up(node)
    assert bob.put(path, json={"rating": 5}).status_code == 200
    ratings = alice.get(f"/apis/{api}/ratings").json()
    assert ratings["avgRating"] == "3.5"
    assert ratings["userRating"] == 2
    assert ratings["count"] == 2
    assert alice.delete(path).status_code == 200
    assert alice.get(path).status_code == 404
    assert anonymous(node, path, json={"rating": 3}).status_code == 401
    assert alice.put(f"/apis/{apis['created']}/user-rating", json={"rating": 3}).status_code == 404


def test_comments_own_deletion_only(node, apis, alice):
    api = apis["published"]
    created = alice.post(f"/apis/{api}/comments", json={"content": "nice API"})
    assert created.status_code == 201, created.text
    comment = created.json()
    assert comment["createdBy"] == alice.username
    listed = anonymous(node, f"/apis/{api}/comments").json()
    assert comment["id"] in [c["id"] for c in listed["list"]]
    assert anonymous(node, f"/apis/{api}/comments/{comment['id']}").json()["content"] == \
        "nice API"
    bob = sign_up(node)
    assert bob.delete(f"/apis/{api}/comments/{comment['id']}").status_code == 403
    assert alice.delete(f"/apis/{api}/comments/{comment['id']}").status_code == 200
    assert anonymous(node, f"/apis/{api}/comments/{comment['id']}").status_code == 404
    assert alice.post(f"/apis/{api}/comments", json={"content": "x" * 513}).status_code == 400


def test_api_detail_lists_each_environments_urls_from_its_vhost(node):
    """The URLs come from the vhost the admin stored for each environment the API is deployed
    to (host, ports, httpContext); Default keeps the reference's localhost:8280/8243."""
    from gateway_support import admin, lifecycle, publisher

    env = "partners-" + uuid.uuid4().hex[:6]
    created = admin(node, "POST", "/environments", json={
        "name": env, "displayName": "Partners",
        "vhosts": [{"host": "gw.partners.example", "httpContext": "/gw", "httpPort": 8081,
                    "httpsPort": 8444},
                   {"host": "partners.example", "httpPort": 80, "httpsPort": 443}]})
    assert created.status_code == 201, created.text
    name = "Envs" + uuid.uuid4().hex[:6]
    api = publisher(node, "POST", "/apis", json={
        "name": name, "context": "/" + name.lower(), "version": "1.0.0",
        "endpointConfig": {"endpoint_type": "http",
                           "production_endpoints": {"url": "http://backend.example"}},
        "policies": ["Unlimited"]}).json()
    revision = publisher(node, "POST", f"/apis/{api['id']}/revisions", json={}).json()
    deployed = publisher(node, "POST", f"/apis/{api['id']}/deploy-revision",
                         params={"revisionId": revision["id"]},
                         json=[{"name": "Default", "displayOnDevportal": True},
                               {"name": env, "vhost": "partners.example",
                                "displayOnDevportal": True}])
    assert deployed.status_code == 201, deployed.text
    lifecycle(node, api["id"], "Publish")
    path = f"/{name.lower()}/1.0.0"

    def urls():
        body = anonymous(node, f"/apis/{api['id']}").json()
        return {e["environmentName"]: (e["environmentDisplayName"], e["URLs"]["http"],
                                       e["URLs"]["https"]) for e in body["endpointURLs"]}

    assert urls() == {
        "Default": ("Default", "http://localhost:8280" + path, "https://localhost:8243" + path),
        # A scheme's default port is left out, as the reference's VHost URLs do.
        env: ("Partners", "http://partners.example" + path, "https://partners.example" + path),
    }
    # The deployment's vhost is the one shown; an admin's change of it shows at once.
    vhosts = created.json()["vhosts"]
    vhosts[1].update(httpContext="edge", httpsPort=9443)
    updated = admin(node, "PUT", f"/environments/{created.json()['id']}",
                    json={"name": env, "displayName": "Partners", "vhosts": vhosts})
    assert updated.status_code == 200, updated.text
    assert urls()[env] == ("Partners", "http://partners.example/edge" + path,
                           "https://partners.example:9443/edge" + path)

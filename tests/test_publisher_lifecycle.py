"""Publisher v4 lifecycle (the reference's state table, checklist, history, state), revisions
and deployments, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from publisher_support import (assert_error, call, change_lifecycle, create_api,
                               insert_subscription)

ACTIONS = ["Publish", "Deploy as a Prototype", "Demote to Created", "Block", "Deprecate",
           "Re-Publish", "Retire"]

# How to bring a new API into each state.
PATHS = {
    "CREATED": [],
    "PROTOTYPED": ["Deploy as a Prototype"],
    "PUBLISHED": ["Publish"],
    "BLOCKED": ["Publish", "Block"],
    "DEPRECATED": ["Publish", "Deprecate"],
    "RETIRED": ["Publish", "Deprecate", "Retire"],
}

# The reference's lifecycle: (state, action) -> next state; every other pair is refused.
TRANSITIONS = {
    ("CREATED", "Publish"): "PUBLISHED",
    ("CREATED", "Deploy as a Prototype"): "PROTOTYPED",
    ("PROTOTYPED", "Publish"): "PUBLISHED",
    ("PROTOTYPED", "Demote to Created"): "CREATED",
    ("PROTOTYPED", "Deploy as a Prototype"): "PROTOTYPED",
    ("PUBLISHED", "Block"): "BLOCKED",
    ("PUBLISHED", "Deploy as a Prototype"): "PROTOTYPED",
    ("PUBLISHED", "Demote to Created"): "CREATED",
    ("PUBLISHED", "Deprecate"): "DEPRECATED",
    ("PUBLISHED", "Publish"): "PUBLISHED",
    ("BLOCKED", "Deprecate"): "DEPRECATED",
    ("BLOCKED", "Re-Publish"): "PUBLISHED",
    ("DEPRECATED", "Retire"): "RETIRED",
}


def api_in(node, state: str) -> dict:
    api = create_api(node)
    for action in PATHS[state]:
        response = change_lifecycle(node, api["id"], action)
        assert response.status_code == 200, response.text
    return api


@pytest.mark.parametrize("state", list(PATHS))
@pytest.mark.parametrize("action", ACTIONS)
def test_lifecycle_table(node, state, action):
    api = api_in(node, state)
    response = change_lifecycle(node, api["id"], action)
    expected = TRANSITIONS.get((state, action))
    if expected is None:
        assert_error(response, 400)
        assert call(node, "GET", f"/apis/{api['id']}").json()["lifeCycleStatus"] == state
        return
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["workflowStatus"] == "APPROVED"
    assert body["lifecycleState"]["state"] == expected.capitalize()
    assert call(node, "GET", f"/apis/{api['id']}").json()["lifeCycleStatus"] == expected


def test_lifecycle_state_lists_transitions_and_checklist(node):
    api = create_api(node)
    state = call(node, "GET", f"/apis/{api['id']}/lifecycle-state").json()
    assert state["state"] == "Created"
    assert {(t["event"], t["targetState"]) for t in state["availableTransitions"]} == {
        ("Publish", "Published"), ("Deploy as a Prototype", "Prototyped")}
    names = [c["name"] for c in state["checkItems"]]
    assert "Deprecate old versions after publishing the API" in names
    assert all(c["value"] is False for c in state["checkItems"])
    retired = api_in(node, "RETIRED")
    state = call(node, "GET", f"/apis/{retired['id']}/lifecycle-state").json()
    assert state["state"] == "Retired" and state["availableTransitions"] == []


def test_history_records_each_change_and_its_user(node):
    api = api_in(node, "DEPRECATED")
    history = call(node, "GET", f"/apis/{api['id']}/lifecycle-history").json()
    assert history["count"] == 2
    assert [(h["previousState"], h["postState"]) for h in history["list"]] == [
        ("Created", "Published"), ("Published", "Deprecated")]
    assert all(h["user"] == "admin" and h["updatedTime"] for h in history["list"])


def test_publish_with_checklist_deprecates_older_published_versions(node):
    v1 = create_api(node)
    assert change_lifecycle(node, v1["id"], "Publish").status_code == 200
    v2 = call(node, "POST", "/apis/copy-api",
              params={"apiId": v1["id"], "newVersion": "2.0.0"}).json()
    response = change_lifecycle(node, v2["id"], "Publish",
                                "Deprecate old versions after publishing the API:true")
    assert response.status_code == 200, response.text
    assert call(node, "GET", f"/apis/{v1['id']}").json()["lifeCycleStatus"] == "DEPRECATED"
    assert call(node, "GET", f"/apis/{v2['id']}").json()["lifeCycleStatus"] == "PUBLISHED"
    # Without the item checked, other versions stay as they are.
    v3 = call(node, "POST", "/apis/copy-api",
              params={"apiId": v1["id"], "newVersion": "3.0.0"}).json()
    assert change_lifecycle(node, v3["id"], "Publish",
                            "Deprecate old versions after publishing the API:false"
                            ).status_code == 200
    assert call(node, "GET", f"/apis/{v2['id']}").json()["lifeCycleStatus"] == "PUBLISHED"


def test_change_lifecycle_errors(node):
    api = create_api(node)
    assert_error(change_lifecycle(node, "00000000-0000-0000-0000-000000000000", "Publish"), 404)
    assert_error(change_lifecycle(node, api["id"], "Explode"), 400)
    assert_error(call(node, "POST", "/apis/change-lifecycle", params={"apiId": api["id"]}), 400)
    assert_error(change_lifecycle(node, api["id"], "Publish", "no-colon"), 400)


# ---- revisions and deployments -----------------------------------------------------------


def new_revision(node, api_id: str, description: str = "rev") -> dict:
    response = call(node, "POST", f"/apis/{api_id}/revisions", json={"description": description})
    assert response.status_code == 201, response.text
    return response.json()


def test_revisions_are_snapshots_at_most_five(node):
    api = create_api(node, description="first")
    r1 = new_revision(node, api["id"], "one")
    assert r1["displayName"] == "Revision 1"
    assert r1["apiInfo"]["id"] == api["id"]
    call(node, "PUT", f"/apis/{api['id']}", json={"description": "second"})
    for _ in range(4):
        new_revision(node, api["id"])
    assert_error(call(node, "POST", f"/apis/{api['id']}/revisions", json={}), 400)
    listed = call(node, "GET", f"/apis/{api['id']}/revisions").json()
    assert listed["count"] == 5
    got = call(node, "GET", f"/apis/{api['id']}/revisions/{r1['id']}")
    assert got.status_code == 200 and got.json()["description"] == "one"
    # Restoring brings back the snapshot's description.
    restored = call(node, "POST", f"/apis/{api['id']}/restore-revision",
                    params={"revisionId": r1["id"]})
    assert restored.status_code == 201, restored.text
    assert call(node, "GET", f"/apis/{api['id']}").json()["description"] == "first"
    assert call(node, "DELETE", f"/apis/{api['id']}/revisions/{r1['id']}").status_code == 200
    assert_error(call(node, "GET", f"/apis/{api['id']}/revisions/{r1['id']}"), 404)
    assert new_revision(node, api["id"])["displayName"] == "Revision 6"
    assert_error(call(node, "POST", "/apis/00000000-0000-0000-0000-000000000000/revisions",
                      json={}), 404)
    assert_error(call(node, "POST", f"/apis/{api['id']}/revisions",
                      json={"description": "x" * 300}), 400)


def test_deploy_and_undeploy_a_revision(node):
    api = create_api(node)
    r1 = new_revision(node, api["id"])
    r2 = new_revision(node, api["id"])
    path = f"/apis/{api['id']}"
    response = call(node, "POST", path + "/deploy-revision", params={"revisionId": r1["id"]},
                    json=[{"name": "Default", "displayOnDevportal": True}])
    assert response.status_code == 201, response.text
    deployed = response.json()
    assert deployed[0]["name"] == "Default" and deployed[0]["revisionUuid"] == r1["id"]
    assert deployed[0]["vhost"]  # the environment's default vhost
    deployments = call(node, "GET", path + "/deployments").json()
    assert [(d["name"], d["revisionUuid"]) for d in deployments["list"]] == [("Default", r1["id"])]
    revision = call(node, "GET", f"{path}/revisions/{r1['id']}").json()
    assert revision["deploymentInfo"][0]["name"] == "Default"
    assert_error(call(node, "DELETE", f"{path}/revisions/{r1['id']}"), 400)
    # Deploying another revision to the environment replaces the first.
    assert call(node, "POST", path + "/deploy-revision", params={"revisionId": r2["id"]},
                json=[{"name": "Default"}]).status_code == 201
    deployments = call(node, "GET", path + "/deployments").json()
    assert [d["revisionUuid"] for d in deployments["list"]] == [r2["id"]]
    only_deployed = call(node, "GET", f"{path}/revisions", params={"query": "deployed:true"})
    assert [r["id"] for r in only_deployed.json()["list"]] == [r2["id"]]
    assert_error(call(node, "POST", path + "/undeploy-revision", params={"revisionId": r1["id"]},
                      json=[{"name": "Default"}]), 400)
    response = call(node, "POST", path + "/undeploy-revision", params={"revisionId": r2["id"]},
                    json=[{"name": "Default"}])
    assert response.status_code == 201, response.text
    assert call(node, "GET", path + "/deployments").json()["count"] == 0
    assert node.count("api_deployments", f"api_id = '{api['id']}'") == 0


def test_deploy_errors(node):
    api = create_api(node)
    rev = new_revision(node, api["id"])
    path = f"/apis/{api['id']}/deploy-revision"
    assert_error(call(node, "POST", path, params={"revisionId": rev["id"]},
                      json=[{"name": "NoSuchEnvironment"}]), 400)
    assert_error(call(node, "POST", path, params={"revisionId": rev["id"]},
                      json=[{"name": "Default", "vhost": "not-a-vhost.example"}]), 400)
    assert_error(call(node, "POST", path, params={"revisionId": rev["id"]}, json={"name": "x"}),
                 400)
    assert_error(call(node, "POST", path, params={"revisionId": rev["id"]}, json=[]), 400)
    assert_error(call(node, "POST", path, json=[{"name": "Default"}]), 400)
    assert_error(call(node, "POST", path, params={"revisionId": "nope"},
                      json=[{"name": "Default"}]), 404)
    assert node.count("api_deployments", f"api_id = '{api['id']}'") == 0


def test_deleting_a_deployed_api_without_subscriptions(node):
    api = create_api(node)
    rev = new_revision(node, api["id"])
    call(node, "POST", f"/apis/{api['id']}/deploy-revision", params={"revisionId": rev["id"]},
         json=[{"name": "Default"}])
    assert call(node, "DELETE", f"/apis/{api['id']}").status_code == 200
    assert node.count("api_revisions", f"api_id = '{api['id']}'") == 0


def test_a_subscribed_api_keeps_its_lifecycle_history(node):
    api = api_in(node, "PUBLISHED")
    insert_subscription(node, api["id"])
    assert_error(call(node, "DELETE", f"/apis/{api['id']}"), 409)
    assert call(node, "GET", f"/apis/{api['id']}/lifecycle-history").json()["count"] == 1


def test_concurrent_edits_and_lifecycle_changes_lose_nothing(node):
    """Edits racing lifecycle changes: each request wins whole or gets 409, and the stored
    document never disagrees with the stored state."""
    from concurrent.futures import ThreadPoolExecutor

    api = create_api(node)

    def edit(i):
        return call(node, "PUT", f"/apis/{api['id']}", json={"description": f"edit {i}"})

    def flip(i):
        return change_lifecycle(node, api["id"], "Deploy as a Prototype" if i % 2 else "Publish")

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(edit if i % 2 else flip, i) for i in range(40)]
        statuses = [f.result().status_code for f in futures]
    assert set(statuses) <= {200, 409, 400}, statuses
    stored = call(node, "GET", f"/apis/{api['id']}").json()
    where = f"id = '{api['id']}' AND lifecycle_status = '{stored['lifeCycleStatus']}'"
    assert node.count("apis", where) == 1

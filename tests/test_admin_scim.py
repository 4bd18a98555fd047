"""Users through the SCIM 2.0 subset at /scim2/Users (admin only)."""

import pytest

from admin_support import call, create_user, new_name

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture(scope="module")
def client(node):
    return node.register_client(grantType="password refresh_token")


def password_token(node, client, user, scope=None):
    form = {"grant_type": "password", "username": user["userName"], "password": user["password"]}
    if scope:
        form["scope"] = scope
    return node.token(client, form)


def assert_scim_error(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == str(status)
    assert body["detail"]


def test_created_user_gets_a_token_by_password_grant(node, client):
    user = create_user(node, ["subscriber"])
    assert user["schemas"] == [USER_SCHEMA]
    assert user["roles"] == [{"value": "subscriber"}]
    assert user["meta"]["resourceType"] == "User"
    assert user["meta"]["location"].endswith("/scim2/Users/" + user["id"])
    response = password_token(node, client, user)
    assert response.status_code == 200, response.text
    claims = node.verify_jwt(response.json()["access_token"])
    assert claims["sub"] == user["userName"]


def test_create_errors(node):
    user = create_user(node, [])
    taken = call(node, "POST", "/scim2/Users",
                 json={"userName": user["userName"], "password": "another-password"})
    assert_scim_error(taken, 409)
    assert taken.json()["scimType"] == "uniqueness"
    assert_scim_error(call(node, "POST", "/scim2/Users",
                           json={"userName": new_name("u"), "password": "abc"}), 400)
    assert_scim_error(call(node, "POST", "/scim2/Users",
                           json={"userName": new_name("u"), "password": "password-1",
                                 "roles": [{"value": "overlord"}]}), 400)
    assert_scim_error(call(node, "POST", "/scim2/Users", json={"password": "password-1"}), 400)
    assert_scim_error(call(node, "POST", "/scim2/Users", data="[1,2]",
                           headers={"Content-Type": "application/scim+json"}), 400)


def test_get_list_filter_and_paging(node):
    users = [create_user(node, ["subscriber"]) for _ in range(3)]
    got = call(node, "GET", f"/scim2/Users/{users[0]['id']}")
    assert got.status_code == 200
    assert got.json()["userName"] == users[0]["userName"]

    everyone = call(node, "GET", "/scim2/Users").json()
    assert everyone["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert everyone["totalResults"] >= 4  # the administrator and these three
    names = [u["userName"] for u in everyone["Resources"]]
    assert {u["userName"] for u in users} <= set(names)
    assert all("password" not in u for u in everyone["Resources"])

    page = call(node, "GET", "/scim2/Users", params={"startIndex": 2, "count": 2}).json()
    assert page["startIndex"] == 2 and page["itemsPerPage"] == 2
    assert [u["userName"] for u in page["Resources"]] == names[1:3]

    filtered = call(node, "GET", "/scim2/Users",
                    params={"filter": f'userName eq "{users[1]["userName"]}"'}).json()
    assert filtered["totalResults"] == 1
    assert filtered["Resources"][0]["id"] == users[1]["id"]
    none = call(node, "GET", "/scim2/Users", params={"filter": 'userName eq "nobody-here"'})
    assert none.json()["totalResults"] == 0
    assert_scim_error(call(node, "GET", "/scim2/Users",
                           params={"filter": 'emails co "x"'}), 400)
    assert_scim_error(call(node, "GET", "/scim2/Users/not-a-user"), 404)


def test_patch_roles(node, client):
    user = create_user(node, ["subscriber"])
    path = f"/scim2/Users/{user['id']}"
    added = call(node, "PATCH", path, json={
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "add", "path": "roles", "value": [{"value": "creator"}]}]})
    assert added.status_code == 200, added.text
    assert sorted(r["value"] for r in added.json()["roles"]) == ["creator", "subscriber"]

    # The new role takes effect at once: the creator may now read the publisher's scopes.
    token = password_token(node, client, user, scope="apim:api_create")
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "apim:api_create"

    removed = call(node, "PATCH", path, json={
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "remove", "path": 'roles[value eq "subscriber"]'}]})
    assert [r["value"] for r in removed.json()["roles"]] == ["creator"]

    replaced = call(node, "PATCH", path, json={
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "value": {"roles": [{"value": "publisher"}]}}]})
    assert [r["value"] for r in replaced.json()["roles"]] == ["publisher"]
    assert [r["value"] for r in call(node, "GET", path).json()["roles"]] == ["publisher"]

    assert_scim_error(call(node, "PATCH", path, json={
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "add", "path": "roles", "value": [{"value": "king"}]}]}), 400)
    assert_scim_error(call(node, "PATCH", path, json={
        "schemas": [PATCH_SCHEMA], "Operations": [{"op": "add", "path": "emails",
                                                   "value": ["x"]}]}), 400)
    assert_scim_error(call(node, "PATCH", path, json={"schemas": [PATCH_SCHEMA]}), 400)
    assert [r["value"] for r in call(node, "GET", path).json()["roles"]] == ["publisher"]
    assert_scim_error(call(node, "PATCH", "/scim2/Users/nobody", json={
        "schemas": [PATCH_SCHEMA], "Operations": [{"op": "remove", "path": "roles"}]}), 404)


def test_patch_password(node, client):
    user = create_user(node, ["subscriber"])
    response = call(node, "PATCH", f"/scim2/Users/{user['id']}", json={
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "password", "value": "a-new-password"}]})
    assert response.status_code == 200, response.text
    assert password_token(node, client, user).status_code == 400
    user["password"] = "a-new-password"
    assert password_token(node, client, user).status_code == 200


def test_delete_user(node, client):
    user = create_user(node, ["subscriber"])
    token = password_token(node, client, user).json()["access_token"]
    assert call(node, "GET", "/api/am/admin/v4/environments",
                auth=(), headers={"Authorization": f"Bearer {token}"}).status_code == 403
    response = call(node, "DELETE", f"/scim2/Users/{user['id']}")
    assert response.status_code == 204
    assert_scim_error(call(node, "GET", f"/scim2/Users/{user['id']}"), 404)
    assert_scim_error(call(node, "DELETE", f"/scim2/Users/{user['id']}"), 404)
    assert password_token(node, client, user).status_code == 400
    # A token of a deleted user no longer authenticates.
    assert call(node, "GET", "/api/am/admin/v4/environments", auth=(),
                headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_admin_cannot_delete_or_demote_themself(node):
    me = call(node, "GET", "/scim2/Users", params={"filter": 'userName eq "admin"'}).json()
    admin_id = me["Resources"][0]["id"]
    assert_scim_error(call(node, "DELETE", f"/scim2/Users/{admin_id}"), 409)
    assert_scim_error(call(node, "PATCH", f"/scim2/Users/{admin_id}", json={
        "schemas": [PATCH_SCHEMA], "Operations": [{"op": "remove", "path": "roles"}]}), 409)


def test_only_admins_manage_users(node):
    publisher = create_user(node, ["publisher", "creator", "subscriber"])
    auth = (publisher["userName"], publisher["password"])
    assert_scim_error(call(node, "GET", "/scim2/Users", auth=auth), 403)
    assert_scim_error(call(node, "POST", "/scim2/Users", auth=auth,
                           json={"userName": new_name("u"), "password": "password-1"}), 403)
    assert_scim_error(call(node, "DELETE", f"/scim2/Users/{publisher['id']}", auth=auth), 403)
    unauthenticated = call(node, "GET", "/scim2/Users", auth=())
    assert_scim_error(unauthenticated, 401)
    assert "WWW-Authenticate" in unauthenticated.headers

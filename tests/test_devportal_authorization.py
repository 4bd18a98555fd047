"""Function-level authorization of the portal: roles without the devportal scopes get 403,
bearer tokens work like HTTP Basic, and nobody sees another developer's objects."""

import uuid

import pytest

from devportal_support import DEVPORTAL, PASSWORD, Developer, error_body, insert_api, sign_up


def scim_user(node, roles):
    username = "u" + uuid.uuid4().hex[:8]
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": username,
            "password": PASSWORD, "roles": [{"value": r} for r in roles]}
    response = node.post("/scim2/Users", json=body, auth=node.admin_auth)
    assert response.status_code == 201, response.text
    return Developer(node, username)


@pytest.mark.parametrize("role", ["creator", "publisher"])
def test_roles_without_portal_scopes_are_403(node, role):
    user = scim_user(node, [role])
    for method, path, body in [("GET", "/applications", None),
                               ("POST", "/applications", {"name": "x",
                                                          "throttlingPolicy": "Unlimited"}),
                               ("GET", "/subscriptions", None),
                               ("POST", "/subscriptions", {"applicationId": "a", "apiId": "b",
                                                           "throttlingPolicy": "Gold"})]:
        response = user.call(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        error_body(response)
    # Discovery stays open to them.
    assert user.get("/apis").status_code == 200


def test_a_bearer_token_with_portal_scopes_works(node):
    dev = sign_up(node)
    app = dev.create_app()
    keys = dev.generate_keys(app["applicationId"], grantTypesToBeSupported=["password"])
    # REST API scopes go only to clients an administrator trusts (docs/security.md).
    trusted = node.request("PUT", node.https_url + "/api/am/admin/v4/oauth-clients/" +
                           keys["consumerKey"], json={"trusted": True}, auth=node.admin_auth)
    assert trusted.status_code == 200, trusted.text
    token = node.token({"clientId": keys["consumerKey"], "clientSecret": keys["consumerSecret"]},
                       {"grant_type": "password", "username": dev.username,
                        "password": dev.password, "scope": "apim:subscribe apim:app_manage"})
    assert token.status_code == 200, token.text
    headers = {"Authorization": "Bearer " + token.json()["access_token"]}
    listed = node.get(DEVPORTAL + "/applications", headers=headers)
    assert listed.status_code == 200, listed.text
    assert app["applicationId"] in [a["applicationId"] for a in listed.json()["list"]]
    # The token lacks apim:sub_manage: subscribing is 403.
    api_id = insert_api(node)
    response = node.post(DEVPORTAL + "/subscriptions", headers=headers,
                         json={"applicationId": app["applicationId"], "apiId": api_id,
                               "throttlingPolicy": "Gold"})
    assert response.status_code == 403
    # An invalid bearer token on a public read is 401, not anonymous.
    assert node.get(DEVPORTAL + "/apis",
                    headers={"Authorization": "Bearer nonsense"}).status_code == 401

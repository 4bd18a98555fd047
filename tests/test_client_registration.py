"""Dynamic client registration at the reference's path, /client-registration/v0.17/register."""

import pytest

REGISTER = "/client-registration/v0.17/register"
ALL_GRANTS = "client_credentials password refresh_token authorization_code"


def registration(name="e2e-app", **extra):
    body = {"clientName": name, "grantType": ALL_GRANTS, "callbackUrl": "https://app.example/cb"}
    body.update(extra)
    return body


def assert_reference_error(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    assert "description" in body
    return body


def test_admin_registers_a_client_and_gets_id_and_secret(sqlite_node):
    response = sqlite_node.post(REGISTER, json=registration("shop-frontend"),
                                auth=sqlite_node.admin_auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["clientId"] and body["clientSecret"]
    assert body["clientName"] == "shop-frontend"
    assert body["callBackURL"] == "https://app.example/cb"
    # RFC 7591 §3.2.1 names for the same client.
    assert body["client_id"] == body["clientId"]
    assert body["client_secret"] == body["clientSecret"]
    assert body["redirect_uris"] == ["https://app.example/cb"]
    assert sorted(body["grant_types"]) == sorted(ALL_GRANTS.split())
    assert response.headers.get("Cache-Control") == "no-store"


def test_registered_credentials_work_at_the_token_endpoint(sqlite_node):
    client = sqlite_node.register_client()
    response = sqlite_node.token(client, {"grant_type": "client_credentials"})
    assert response.status_code == 200, response.text


def test_registration_without_credentials_is_401_missing_credentials(sqlite_node):
    response = sqlite_node.post(REGISTER, json=registration())
    assert_reference_error(response, 401, 900902)
    assert "Basic" in response.headers["WWW-Authenticate"]


def test_registration_with_wrong_password_is_401_invalid_credentials(sqlite_node):
    response = sqlite_node.post(REGISTER, json=registration(), auth=("admin", "not-the-password"))
    assert_reference_error(response, 401, 900901)
    assert "WWW-Authenticate" in response.headers


def test_registration_with_malformed_json_is_400(sqlite_node):
    response = sqlite_node.post(REGISTER, data='{"clientName": "x",', auth=sqlite_node.admin_auth,
                                headers={"Content-Type": "application/json"})
    assert_reference_error(response, 400, 400)


def test_registration_with_unknown_grant_type_is_400_naming_it(sqlite_node):
    response = sqlite_node.post(REGISTER, auth=sqlite_node.admin_auth,
                                json=registration(grantType="client_credentials implicit"))
    body = assert_reference_error(response, 400, 400)
    assert "implicit" in body["description"]


@pytest.mark.parametrize("body,auth", [
    (registration(), None),
    (registration(), ("admin", "wrong")),
    (registration(grantType="implicit"), "admin"),
    (registration(callbackUrl="not a uri"), "admin"),
    (registration(grantType="authorization_code", callbackUrl=None), "admin"),
    (registration(token_endpoint_auth_method="none", grantType="client_credentials"), "admin"),
    ({"grantType": "client_credentials"}, "admin"),
], ids=["no-credentials", "wrong-password", "unknown-grant", "bad-callback",
        "code-without-callback", "public-client-credentials", "no-name"])
def test_refused_registration_stores_no_client(sqlite_node, body, auth):
    before = sqlite_node.count("oauth_clients")
    if auth == "admin":
        auth = sqlite_node.admin_auth
    body = {k: v for k, v in body.items() if v is not None}
    response = sqlite_node.post(REGISTER, json=body, auth=auth)
    assert response.status_code in (400, 401), response.text
    assert "clientId" not in response.json()
    assert sqlite_node.count("oauth_clients") == before


def test_public_client_registration_returns_no_secret(sqlite_node):
    response = sqlite_node.post(
        REGISTER, auth=sqlite_node.admin_auth,
        json=registration(grantType="authorization_code refresh_token",
                          token_endpoint_auth_method="none"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["clientId"]
    assert not body.get("clientSecret")
    assert "client_secret" not in body
    assert body["token_endpoint_auth_method"] == "none"


def test_rfc7591_field_names_register_a_client(sqlite_node):
    response = sqlite_node.post(REGISTER, auth=sqlite_node.admin_auth, json={
        "client_name": "rfc7591-app", "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": ["https://a.example/cb", "https://b.example/cb"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["client_name"] == "rfc7591-app"
    assert body["redirect_uris"] == ["https://a.example/cb", "https://b.example/cb"]
    assert sorted(body["grant_types"]) == ["authorization_code", "refresh_token"]
    assert body["client_secret"]


def bearer(sqlite_node, scope):
    client = sqlite_node.register_client()
    response = sqlite_node.token(client, {"grant_type": "password", "username": "admin",
                                          "password": sqlite_node.admin_password, "scope": scope})
    assert response.status_code == 200, response.text
    return {"Authorization": "Bearer " + response.json()["access_token"]}


def test_bearer_token_with_a_portal_scope_registers_a_client(sqlite_node):
    response = sqlite_node.post(REGISTER, json=registration(),
                                headers=bearer(sqlite_node, "apim:subscribe"))
    assert response.status_code == 200, response.text


def test_bearer_token_with_only_the_default_scope_may_not_register(sqlite_node):
    response = sqlite_node.post(REGISTER, json=registration(), headers=bearer(sqlite_node, ""))
    assert_reference_error(response, 403, 403)


def test_registration_for_an_owner_who_is_not_a_user_is_400(sqlite_node):
    response = sqlite_node.post(REGISTER, json=registration(owner="nobody-here"),
                                auth=sqlite_node.admin_auth)
    assert_reference_error(response, 400, 400)

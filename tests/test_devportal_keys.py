"""OAuth keys of applications: generate-keys registers a Key Manager client whose consumer
key and secret work at /oauth2/token, tokens carry the application's claims, generate-token,
regenerate-secret, updating grant types and callback; and API keys, generated and revoked."""

import base64
import json

import jwt
import pytest

from devportal_support import error_body, sign_up


@pytest.fixture(scope="module")
def alice(node):
    return sign_up(node)


@pytest.fixture(scope="module")
def app(alice):
    return alice.create_app("keys-app", "10PerMin")


@pytest.fixture(scope="module")
def keys(alice, app):
    return alice.generate_keys(app["applicationId"], scopes=["default"], validityTime="1800")


def client_of(keys):
    return {"clientId": keys["consumerKey"], "clientSecret": keys["consumerSecret"]}


def test_generate_keys_answers_the_application_key_shape(keys):
    assert keys["keyType"] == "PRODUCTION"
    assert keys["keyState"] == "COMPLETED"
    assert keys["keyManager"] == "Resident Key Manager"
    assert keys["consumerKey"] and keys["consumerSecret"]
    assert keys["supportedGrantTypes"] == ["client_credentials"]
    assert keys["keyMappingId"]
    assert keys["token"]["accessToken"]
    assert keys["token"]["validityTime"] == 1800
    assert keys["token"]["tokenScopes"] == ["default"]


def test_consumer_key_and_secret_work_at_the_token_endpoint(node, alice, app, keys):
    response = node.token(client_of(keys), {"grant_type": "client_credentials"})
    assert response.status_code == 200, response.text
    claims = node.verify_jwt(response.json()["access_token"])
    assert claims["sub"] == alice.username
    assert claims["keytype"] == "PRODUCTION"
    assert claims["application"]["uuid"] == app["applicationId"]
    assert claims["application"]["name"] == "keys-app"
    assert claims["application"]["tier"] == "10PerMin"
    assert response.json()["expires_in"] == 1800


def test_the_token_in_the_generate_keys_answer_is_a_valid_jwt(node, app, keys):
    claims = node.verify_jwt(keys["token"]["accessToken"])
    assert claims["application"]["uuid"] == app["applicationId"]


def test_second_keys_of_the_same_type_are_409_and_nothing_is_registered(node, alice, app):
    before = node.count("oauth_clients")
    response = alice.post(f"/applications/{app['applicationId']}/generate-keys",
                          json={"keyType": "PRODUCTION",
                                "grantTypesToBeSupported": ["client_credentials"]})
    assert response.status_code == 409
    error_body(response)
    assert node.count("oauth_clients") == before


def test_oauth_keys_list_and_get_never_show_the_secret(alice, app, keys):
    listed = alice.get(f"/applications/{app['applicationId']}/oauth-keys").json()
    assert listed["count"] == 1
    assert listed["list"][0]["consumerKey"] == keys["consumerKey"]
    assert listed["list"][0]["consumerSecret"] is None
    one = alice.get(f"/applications/{app['applicationId']}/oauth-keys/{keys['keyMappingId']}")
    assert one.status_code == 200
    assert one.json()["consumerSecret"] is None
    assert alice.get(f"/applications/{app['applicationId']}/oauth-keys/nope").status_code == 404


def test_generate_token_with_the_consumer_secret(node, alice, app, keys):
    path = f"/applications/{app['applicationId']}/oauth-keys/{keys['keyMappingId']}"
    response = alice.post(path + "/generate-token",
                          json={"consumerSecret": keys["consumerSecret"], "validityPeriod": 600,
                                "scopes": ["default"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["validityTime"] == 600
    assert node.verify_jwt(body["accessToken"])["application"]["uuid"] == app["applicationId"]
    wrong = alice.post(path + "/generate-token", json={"consumerSecret": "wrong"})
    assert wrong.status_code == 400
    error_body(wrong)


def test_sandbox_keys_with_opaque_tokens_for_an_oauth_application(node, alice):
    app = alice.create_app(tokenType="OAUTH")
    keys = alice.generate_keys(app["applicationId"], "SANDBOX")
    assert keys["keyType"] == "SANDBOX"
    token = node.token(client_of(keys), {"grant_type": "client_credentials"}).json()
    assert token["access_token"].count(".") != 2
    assert node.introspect(token["access_token"])["active"] is True


def test_regenerate_secret_refuses_the_old_one(node, alice):
    app = alice.create_app()
    keys = alice.generate_keys(app["applicationId"])
    path = f"/applications/{app['applicationId']}/oauth-keys/{keys['keyMappingId']}"
    response = alice.post(path + "/regenerate-secret")
    assert response.status_code == 200, response.text
    new_secret = response.json()["consumerSecret"]
    assert response.json()["consumerKey"] == keys["consumerKey"]
    assert new_secret != keys["consumerSecret"]
    old = node.token(client_of(keys), {"grant_type": "client_credentials"})
    assert old.status_code == 401
    new = node.token({"clientId": keys["consumerKey"], "clientSecret": new_secret},
                     {"grant_type": "client_credentials"})
    assert new.status_code == 200


def test_update_grant_types_and_callback(node, alice):
    app = alice.create_app()
    keys = alice.generate_keys(app["applicationId"])
    path = f"/applications/{app['applicationId']}/oauth-keys/{keys['keyMappingId']}"
    response = alice.put(path, json={"supportedGrantTypes": ["client_credentials", "password"],
                                     "callbackUrl": "https://app.example/cb",
                                     "consumerSecret": "ignored"})
    assert response.status_code == 200, response.text
    assert set(response.json()["supportedGrantTypes"]) == {"client_credentials", "password"}
    assert response.json()["callbackUrl"] == "https://app.example/cb"
    # password grant now works with the developer's own credentials
    token = node.token(client_of(keys), {"grant_type": "password", "username": alice.username,
                                         "password": alice.password})
    assert token.status_code == 200, token.text
    bad = alice.put(path, json={"supportedGrantTypes": ["no_such_grant"]})
    assert bad.status_code == 400


def test_invalid_generate_keys_bodies_are_400(alice):
    app_id = alice.create_app()["applicationId"]
    for body in [{"grantTypesToBeSupported": ["client_credentials"]},
                 {"keyType": "TESTING", "grantTypesToBeSupported": ["client_credentials"]},
                 {"keyType": "PRODUCTION"},
                 {"keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials"],
                  "keyManager": "Okta"},
                 {"keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials"],
                  "validityTime": "forever"}]:
        response = alice.post(f"/applications/{app_id}/generate-keys", json=body)
        assert response.status_code == 400, (body, response.text)
    assert alice.get(f"/applications/{app_id}/oauth-keys").json()["count"] == 0


def decode_unverified(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_api_key_is_signed_and_carries_the_application(node, alice, app):
    response = alice.post(f"/applications/{app['applicationId']}/api-keys/PRODUCTION/generate",
                          json={"validityPeriod": 3600})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["validityTime"] == 3600
    header = jwt.get_unverified_header(body["apikey"])
    keys = {k["kid"]: k for k in node.jwks()["keys"]}
    key = jwt.PyJWK(keys[header["kid"]])
    claims = jwt.decode(body["apikey"], key.key, algorithms=[keys[header["kid"]]["alg"]],
                        options={"verify_aud": False})
    assert claims["sub"] == alice.username
    assert claims["keytype"] == "PRODUCTION"
    assert claims["application"]["uuid"] == app["applicationId"]
    assert claims["application"]["tier"] == "10PerMin"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["jti"]
    assert isinstance(claims["subscribedAPIs"], list)


def test_api_key_revocation_records_the_jti(node, alice, app):
    path = f"/applications/{app['applicationId']}/api-keys/PRODUCTION"
    key = alice.post(path + "/generate", json={"validityPeriod": -1}).json()["apikey"]
    jti = decode_unverified(key)["jti"]
    response = alice.post(path + "/revoke", json={"apikey": key})
    assert response.status_code == 200, response.text
    assert node.count("revoked_tokens", f"jti = '{jti}'") == 1
    # a key of another application, or of the other key type, is refused
    assert alice.post(f"/applications/{app['applicationId']}/api-keys/SANDBOX/revoke",
                      json={"apikey": key}).status_code == 400
    assert alice.post(path + "/revoke", json={"apikey": "not.a.key"}).status_code == 400
    assert alice.post(f"/applications/{app['applicationId']}/api-keys/OTHER/generate",
                      json={}).status_code == 400


def test_concurrent_generate_keys_leave_one_mapping_and_one_client(node, alice):
    from concurrent.futures import ThreadPoolExecutor
    app_id = alice.create_app()["applicationId"]
    before = node.count("oauth_clients")
    body = {"keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials"]}
    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(
            lambda _: alice.post(f"/applications/{app_id}/generate-keys", json=body).status_code,
            range(6)))
    assert codes.count(200) == 1, codes
    assert set(codes) <= {200, 409}, codes
    assert node.count("application_key_mappings", f"application_id = '{app_id}'") == 1
    # The losers' clients were removed again: nothing half-written.
    assert node.count("oauth_clients") == before + 1


def test_unknown_or_malformed_scopes_are_400_and_register_nothing(node, alice):
    app_id = alice.create_app()["applicationId"]
    before = node.count("oauth_clients")
    response = alice.post(f"/applications/{app_id}/generate-keys",
                          json={"keyType": "PRODUCTION", "scopes": ["no_such_scope"],
                                "grantTypesToBeSupported": ["client_credentials"]})
    assert response.status_code == 400, response.text
    error_body(response)
    assert node.count("oauth_clients") == before
    keys = alice.generate_keys(app_id)
    path = f"/applications/{app_id}/oauth-keys/{keys['keyMappingId']}/generate-token"
    bad = alice.post(path, json={"consumerSecret": keys["consumerSecret"],
                                 "scopes": ["bad\\"]})
    assert bad.status_code == 400, bad.text
    # REST scopes the owner's roles do not grant are left out, as the reference does.
    token = alice.post(path, json={"consumerSecret": keys["consumerSecret"],
                                   "scopes": ["default", "apim:admin"]}).json()
    assert token["tokenScopes"] == ["default"]

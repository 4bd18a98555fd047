"""RFC 8414 metadata and the JWKS a gateway or resource server uses to verify tokens."""

import jwt


def test_metadata_names_issuer_and_every_endpoint(sqlite_node):
    m = sqlite_node.metadata()
    origin = f"https://localhost:{sqlite_node.https_port}"
    assert m["issuer"] == origin + "/oauth2/token"
    assert m["token_endpoint"] == origin + "/oauth2/token"
    assert m["jwks_uri"] == origin + "/oauth2/jwks"
    assert m["revocation_endpoint"] == origin + "/oauth2/revoke"
    assert m["introspection_endpoint"] == origin + "/oauth2/introspect"
    assert m["authorization_endpoint"] == origin + "/oauth2/authorize"


def test_metadata_offers_only_s256_for_pkce(sqlite_node):
    assert sqlite_node.metadata()["code_challenge_methods_supported"] == ["S256"]


def test_metadata_is_also_served_at_the_issuer_path_suffix(sqlite_node):
    # RFC 8414 §3: the issuer's path (/oauth2/token) follows the well-known suffix.
    response = sqlite_node.get("/.well-known/oauth-authorization-server/oauth2/token")
    assert response.status_code == 200
    assert response.json() == sqlite_node.metadata()


def test_jwks_is_the_same_over_https_and_http(sqlite_node):
    over_https = sqlite_node.request("GET", sqlite_node.https_url + "/oauth2/jwks")
    over_http = sqlite_node.request("GET", sqlite_node.http_url + "/oauth2/jwks")
    assert over_https.status_code == 200
    assert over_http.status_code == 200
    assert over_https.headers["Content-Type"].startswith("application/json")
    assert over_https.json() == over_http.json()


def test_jwks_keys_are_rs256_signing_keys_with_kid(sqlite_node):
    keys = sqlite_node.jwks()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kid"]
    assert key["kty"] == "RSA"
    assert key["use"] == "sig"
    assert key["alg"] == "RS256"
    assert key["n"] and key["e"]
    assert "d" not in key and "p" not in key, "the JWKS must not carry private key material"


def test_es256_node_issues_tokens_that_verify_with_its_ec_jwk(sqlite_launcher):
    node = sqlite_launcher.new(sections={"oauth": {"signing_algorithm": "ES256"}})
    [key] = node.jwks()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")

    client = node.register_client(grantType="client_credentials")
    response = node.token(client, {"grant_type": "client_credentials"})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]

    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["kid"] == key["kid"]
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["ES256"],
                        audience=client["clientId"], issuer=node.metadata()["issuer"])
    assert claims["client_id"] == client["clientId"]

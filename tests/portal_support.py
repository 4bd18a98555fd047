"""Signing in to a web portal as its page does: authorization code with PKCE for the portal's
public client, against the key manager the portal is served with."""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse

import requests


def portal_sign_in(client, base_url: str, portal: str, scope: str,
                   username: str, password: str) -> requests.Response:
    """The token response for `portal`'s client after the user signs in at `base_url` (the
    origin the portal was opened at, which must be a registered redirect origin). `client`
    has .request(method, url, **kwargs), as tests' Node and ClusterEntry do."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = f"{base_url}/{portal}/callback"
    form = {"response_type": "code", "client_id": f"portico-{portal}", "redirect_uri": redirect,
            "scope": scope, "state": "s1", "code_challenge": challenge,
            "code_challenge_method": "S256", "username": username, "password": password}
    login = client.request("POST", base_url + "/oauth2/authorize", data=form,
                           allow_redirects=False)
    assert login.status_code in (302, 303), login.text
    location = urllib.parse.urlsplit(login.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect, location
    code = urllib.parse.parse_qs(location.query)["code"][0]
    return client.request("POST", base_url + "/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
        "client_id": f"portico-{portal}", "code_verifier": verifier})

"""The web portals (web/, served by src/portals): the built files under /publisher, /devportal
and /admin with their cache headers and CSP, the portals' public OAuth clients, and the whole
story in a real Chromium (web/e2e/story.mjs, playwright-core driving /usr/bin/chromium).
Needs the portals built (`make build`, or `npm ci && npm run build` in web/)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from portal_support import portal_sign_in

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
PORTALS = ["publisher", "devportal", "admin"]

OPENAPI = """openapi: 3.0.3
info: {title: Story, version: 1.0.0, description: Says hello.}
paths:
  /hello:
    get:
      operationId: hello
      responses:
        '200': {description: A greeting}
"""
INVALID_OPENAPI = """openapi: 3.0.3
info: {title: Broken}
paths:
  /hello/{name}:
    get:
      responses:
        '200': {description: A greeting}
"""


@pytest.fixture(scope="module")
def web_node(sqlite_launcher):
    assert (WEB / "dist" / "publisher" / "index.html").exists(), \
        "the portals are not built: run `make build` (or `npm ci && npm run build` in web/)"
    return sqlite_launcher.new(sections={"security": {"allow_loopback_backends": True},
                                         "analytics": {"flush_interval_ms": 200}})


def test_each_portal_is_served_with_its_policy_and_falls_back_to_its_page(web_node):
    for portal in PORTALS:
        for path in (f"/{portal}", f"/{portal}/", f"/{portal}/apis/42/overview"):
            page = web_node.request("GET", web_node.http_url + path)
            assert page.status_code == 200, (path, page.text)
            assert page.headers["Content-Type"].startswith("text/html")
            assert page.headers["Cache-Control"] == "no-cache"
            csp = page.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert f"/{portal}/assets/" in page.text
        asset = re.search(rf'src="(/{portal}/assets/[^"]+\.js)"', page.text).group(1)
        script = web_node.request("GET", web_node.http_url + asset)
        assert script.status_code == 200
        assert script.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert script.headers["Content-Type"].startswith("text/javascript")
        missing = web_node.request("GET", web_node.http_url + f"/{portal}/assets/gone-1234.js")
        assert missing.status_code == 404 and missing.json()["code"] == 404


def test_portals_sign_in_with_pkce_as_trusted_public_clients(web_node):
    token = portal_sign_in(web_node, web_node.http_url, "publisher",
                           "apim:api_view apim:api_create", *web_node.admin_auth)
    assert token.status_code == 200, token.text
    assert {"apim:api_view", "apim:api_create"} <= set(token.json()["scope"].split())
    access = token.json()["access_token"]
    apis = web_node.request("GET", web_node.http_url + "/api/am/publisher/v4/apis",
                            headers={"Authorization": f"Bearer {access}"})
    assert apis.status_code == 200, apis.text
    # Sign-out: the portal revokes its token, which then opens nothing.
    revoked = web_node.request("POST", web_node.http_url + "/oauth2/revoke",
                               data={"token": access, "client_id": "portico-publisher"})
    assert revoked.status_code == 200
    after = web_node.request("GET", web_node.http_url + "/api/am/publisher/v4/apis",
                             headers={"Authorization": f"Bearer {access}"})
    assert after.status_code == 401


def test_the_story_in_chromium(web_node, tmp_path):
    assert Path("/usr/bin/chromium").exists(), "Chromium is missing: run scripts/setup"
    backend = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "gateway_backend.py"), "--port", "0",
         "--name", "story"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(backend.stdout.readline().split()[1])
        (tmp_path / "story.yaml").write_text(OPENAPI)
        (tmp_path / "broken.yaml").write_text(INVALID_OPENAPI)
        env = dict(os.environ, PORTICO_URL=web_node.http_url, GATEWAY_URL=web_node.gateway_url,
                   BACKEND_URL=f"http://127.0.0.1:{port}", ADMIN_USER=web_node.admin_auth[0],
                   ADMIN_PASSWORD=web_node.admin_auth[1],
                   OPENAPI_FILE=str(tmp_path / "story.yaml"),
                   INVALID_OPENAPI_FILE=str(tmp_path / "broken.yaml"),
                   ARTIFACTS=str(WEB / "test-artifacts"))
        run = subprocess.run(["node", "e2e/story.mjs"], cwd=WEB, env=env, capture_output=True,
                             text=True, timeout=240)
        assert run.returncode == 0, run.stdout + run.stderr + web_node.log_tail()
    finally:
        backend.kill()
        backend.wait()
